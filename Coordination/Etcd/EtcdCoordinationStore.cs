using System.Text;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Coordination.Etcd;

/// <summary>
/// <see cref="ICoordinationStore"/> on etcd 3.4: keys live under <c>/&lt;Root&gt;/</c>, the session is a lease kept
/// alive by the client, transactions are etcd <c>Txn</c>s with explicit compare targets, watches are native and
/// resume from the last revision they delivered. Create one with <see cref="ConnectAsync"/>; dispose it to revoke
/// its session (its ephemeral keys vanish at once) and close the connection.
/// </summary>
/// <remarks>Thread-safe. See docs/coordination.md for the contract and the etcd-specific notes.</remarks>
public sealed partial class EtcdCoordinationStore : ICoordinationStore
{
    private readonly EtcdClient _client;
    private readonly EtcdStoreOptions _options;
    private readonly string _rootPrefix;
    private readonly ByteString _rootKey;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _lock = new();
    private EtcdStoreSession _session;
    private long _seen;
    private StoreRolledBackException? _rolledBack;
    private bool _disposed;

    private EtcdCoordinationStore(EtcdClient client, EtcdStoreOptions options, ILogger logger, TimeProvider time)
    {
        _client = client;
        _options = options;
        _rootPrefix = "/" + options.Root + "/";
        _rootKey = ByteString.CopyFromUtf8(_rootPrefix);
        _logger = logger;
        _time = time;
        _session = new EtcdStoreSession(options.SessionTtl, time);
    }

    /// <summary>
    /// Connects to etcd and opens the first session (grants its lease), so a store that is returned works.
    /// </summary>
    /// <param name="options">Endpoints, root, session TTL and client settings; validated here.</param>
    /// <param name="loggerFactory">Receives the store's and the etcd client's logs; null for none.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The connected store.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="StoreException">etcd could not be reached or refused the lease (the inner exception says why).</exception>
    /// <exception cref="StoreTlsException">The TLS handshake with the members failed (the message says why).</exception>
    public static async Task<EtcdCoordinationStore> ConnectAsync(
        EtcdStoreOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var time = options.TimeProvider ?? TimeProvider.System;
        var client = new EtcdClient(options.ToClientOptions(), loggerFactory?.CreateLogger<EtcdClient>(), time);
        var logger = (ILogger?)loggerFactory?.CreateLogger<EtcdCoordinationStore>() ?? NullLogger.Instance;
        var store = new EtcdCoordinationStore(client, options, logger, time);
        try
        {
            var lease = await client.GrantLeaseAsync(options.SessionTtl, keepAlive: true, cancellationToken).ConfigureAwait(false);
            store._session.Establish(lease);
            EtcdStoreLog.SessionOpened(logger, lease.Id, lease.Ttl.TotalSeconds);
            return store;
        }
        catch (Exception ex)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            store._disposing.Dispose();
            if (ex is EtcdTlsException)
            {
                throw new StoreTlsException($"Could not open an etcd session at {options.Endpoints}: {ex.Message}", ex);
            }

            if (ex is EtcdException { StatusCode: GrpcStatusCode.InvalidArgument or GrpcStatusCode.Unauthenticated or GrpcStatusCode.PermissionDenied } denied)
            {
                throw new StorePermissionException(
                    $"etcd at {options.Endpoints} refused user '{options.Username ?? "(none)"}': {denied.Message} (check Store:Username and Store:Password; " +
                    "docs/operations.md, \"Identities and permissions\")", ex);
            }

            if (ex is EtcdException)
            {
                throw new StoreException($"Could not open an etcd session at {options.Endpoints}: {ex.Message}", ex);
            }

            throw;
        }
    }

    /// <inheritdoc />
    public StoreBackend Backend => StoreBackend.Etcd;

    /// <summary>
    /// The current session; once it has ended (lease lost), a new session is created and its lease granted in the
    /// background (<see cref="SessionState.Connecting"/> until then). The same object while a session lives.
    /// </summary>
    public IStoreSession Session => CurrentSession;

    /// <summary>The current session as its concrete type.</summary>
    public EtcdStoreSession CurrentSession
    {
        get
        {
            lock (_lock)
            {
                // A store that went back in time gets no new session: nothing this process knows can be trusted there.
                if (_session.Ended.IsCompleted && !_disposed && _rolledBack is null)
                {
                    var previous = _session;
                    _session = new EtcdStoreSession(_options.SessionTtl, _time);
                    EtcdStoreLog.SessionReplaced(_logger, previous.Id, previous.State);
                    var next = _session;
                    _ = Task.Run(() => GrantAsync(next), CancellationToken.None);
                    if (previous.Lease is { State: EtcdLeaseState.Lost } lost)
                    {
                        // The client gave up on it; if the server still holds it, its keys would linger until it expires.
                        _ = Task.Run(() => RevokeQuietlyAsync(lost.Id), CancellationToken.None);
                    }
                }

                return _session;
            }
        }
    }

    /// <inheritdoc />
    public long SeenRevision => Interlocked.Read(ref _seen);

    /// <inheritdoc />
    public async Task<StoreItem?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        StoreKeys.Validate(key);
        var floor = SeenRevision;
        var response = await ReadAsync(() => _client.RangeAsync(new RangeRequest { Key = Full(key) }, cancellationToken), "get " + key)
            .ConfigureAwait(false);
        Current(response.Header.Revision, floor, "get " + key);
        return response.Kvs.Count == 0 ? null : ToItem(response.Kvs[0]);
    }

    /// <summary>Closes the session (revokes its lease, so its ephemeral keys vanish at once), then the connection.
    /// A store that cannot reach etcd leaves the lease to expire after its TTL.</summary>
    public async ValueTask DisposeAsync()
    {
        EtcdStoreSession session;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            session = _session;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        if (session.Close() is { } lease)
        {
            try
            {
                await _client.RevokeLeaseAsync(lease).ConfigureAwait(false);
                EtcdStoreLog.SessionClosed(_logger, lease.Id);
            }
            catch (EtcdException ex)
            {
                // Best effort: the lease expires on the server after its TTL anyway.
                EtcdStoreLog.RevokeFailed(_logger, ex, lease.Id);
            }
        }

        await _client.DisposeAsync().ConfigureAwait(false);
        _disposing.Dispose();
    }

    /// <summary>Grants the lease of a replacement session, retrying with backoff until granted or the store is disposed.</summary>
    private async Task GrantAsync(EtcdStoreSession session)
    {
        var stop = _disposing.Token;
        // Until granted, the session ends or the store is disposed: the cluster may be electing a leader or
        // unreachable for a while, and a store without a session is useless.
        var grant = StoreRetries.EtcdSession.Build(
            _time,
            ex => ex is EtcdException && !session.Ended.IsCompleted,
            args => EtcdStoreLog.GrantFailed(_logger, args.Outcome.Exception!, args.AttemptNumber + 1));
        try
        {
            await grant.ExecuteAsync(async ct =>
            {
                if (session.Ended.IsCompleted)
                {
                    return;
                }

                var lease = await _client.GrantLeaseAsync(_options.SessionTtl, keepAlive: true, ct).ConfigureAwait(false);
                if (session.Establish(lease))
                {
                    EtcdStoreLog.SessionOpened(_logger, lease.Id, lease.Ttl.TotalSeconds);
                }
                else
                {
                    await RevokeQuietlyAsync(lease.Id).ConfigureAwait(false);
                }
            }, stop).ConfigureAwait(false);
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Disposed (a grant cut short fails as it likes).
        }
        catch (ObjectDisposedException)
        {
            // The client was disposed under us.
        }
        catch (EtcdException ex) when (session.Ended.IsCompleted)
        {
            EtcdStoreLog.GrantFailed(_logger, ex, 0);
        }
    }

    private async Task RevokeQuietlyAsync(long leaseId)
    {
        try
        {
            await _client.RevokeLeaseAsync(leaseId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EtcdException or ObjectDisposedException)
        {
            EtcdStoreLog.RevokeFailed(_logger, ex, leaseId);
        }
    }

    /// <summary>Runs a read, turning etcd failures into <see cref="StoreException"/>.</summary>
    private async Task<T> ReadAsync<T>(Func<Task<T>> call, string what)
    {
        ThrowIfRolledBack();
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (EtcdCompactedException)
        {
            throw; // callers that read at a revision handle it
        }
        catch (EtcdException ex) when (ex.StatusCode == GrpcStatusCode.PermissionDenied)
        {
            throw new StorePermissionException($"etcd denied the read ({what}): {ex.Message}; this identity needs read permission on it " +
                "(docs/operations.md, \"Identities and permissions\")", ex);
        }
        catch (EtcdException ex)
        {
            throw new StoreException($"etcd {what} failed: {ex.Message}", ex);
        }
    }

    private ByteString Full(string key) => ByteString.CopyFromUtf8(_rootPrefix + key);

    private string Relative(ByteString key) => Encoding.UTF8.GetString(key.Span[_rootKey.Length..]);

    private StoreItem ToItem(KeyValue kv) =>
        new(Relative(kv.Key), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    /// <summary>
    /// Takes the header revision of a linearizable answer (a read without <c>serializable</c>, a Txn): the cluster's
    /// revision when it answered, which includes every write acknowledged before the request was sent. It can never be
    /// below <paramref name="floor"/>, the highest revision this process had seen (a header or a key's mod revision)
    /// when it sent the request, unless the store went back in time: a restore from a backup, or members that lost
    /// their newest data. Then the store stops serving this process (<see cref="StoreRolledBackException"/>). The floor
    /// is taken before the send, because an answer to a concurrent request may report a later revision first.
    /// Serializable reads and watch headers may lag behind on a follower and are never judged here.
    /// </summary>
    /// <exception cref="StoreRolledBackException">The revision is below the floor.</exception>
    private void Current(long headerRevision, long floor, string what)
    {
        Seen(headerRevision);
        if (headerRevision >= floor)
        {
            return;
        }

        var seen = floor;

        var error = new StoreRolledBackException(
            $"etcd answered {what} at revision {headerRevision}, below revision {seen} that this process has already seen: the store " +
            "was restored from a backup or lost its newest writes. This process no longer uses it (its session is ended, no new one is " +
            "opened); restart it once the restore is intended.");
        EtcdStoreSession session;
        lock (_lock)
        {
            _rolledBack ??= error;
            session = _session;
        }

        EtcdStoreLog.RolledBack(_logger, headerRevision, seen, what);
        session.MarkLost();
        throw _rolledBack;
    }

    /// <exception cref="StoreRolledBackException">The store went back in time earlier (<see cref="Current"/>).</exception>
    private void ThrowIfRolledBack()
    {
        if (Volatile.Read(ref _rolledBack) is { } rolledBack)
        {
            throw new StoreRolledBackException(rolledBack.Message, rolledBack);
        }
    }

    private void Seen(long revision)
    {
        long current;
        while (revision > (current = Interlocked.Read(ref _seen)) && Interlocked.CompareExchange(ref _seen, revision, current) != current)
        {
        }
    }
}
