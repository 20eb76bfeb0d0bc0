using System.Collections.Concurrent;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>
/// The ZooKeeper backend of <see cref="ICoordinationStore"/>: keys are znodes under <c>/&lt;Root&gt;</c>, the session
/// is a ZooKeeper session (a new one is opened when it expires), transactions are <c>multi</c>, subtree watches are
/// persistent-recursive watches plus reads. See docs/coordination.md for how each promise is kept.
/// </summary>
public sealed partial class ZooKeeperCoordinationStore : ICoordinationStore
{
    private readonly ZooKeeperStoreOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly string _rootPath;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, byte> _knownDirectories = new(StringComparer.Ordinal);
    private ZooKeeperStoreSession _session;
    private long _seenFloor;
    private StoreRolledBackException? _rolledBack;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _reopen;
    // The latest failure to open a session, for the error ConnectAsync gives when it runs out of time.
    private Exception? _lastOpenFailure;

    /// <summary>The store's clock (its retries' pauses, and its ZooKeeper client's).</summary>
    internal TimeProvider Time => _time;

    private ZooKeeperCoordinationStore(ZooKeeperStoreOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _time = options.TimeProvider ?? TimeProvider.System;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ZooKeeperCoordinationStore>();
        _rootPath = "/" + options.Root;
        _reopen = StoreRetries.ZooKeeperSession.Build(
            _time, ex => ex is ZooKeeperException, args =>
            {
                Volatile.Write(ref _lastOpenFailure, args.Outcome.Exception);
                ZooKeeperStoreLog.OpenFailed(_logger, args.Outcome.Exception!, args.RetryDelay.TotalMilliseconds);
            });
        _session = OpenSession();
    }

    /// <summary>Opens a store and waits (up to <see cref="ZooKeeperStoreOptions.ConnectTimeout"/>) for its first session.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="StoreException">No server accepted a session in time.</exception>
    public static async Task<ZooKeeperCoordinationStore> ConnectAsync(
        ZooKeeperStoreOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var store = new ZooKeeperCoordinationStore(options, loggerFactory ?? NullLoggerFactory.Instance);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            // A server that drops the connection right after the handshake (busy, or restarting) is not a failure
            // to connect: the client reconnects within the session; try again until the deadline.
            var connect = StoreRetries.Connect.Build(store._time, ex => ex is ConnectionLossException);
            await connect.ExecuteAsync(async ct =>
            {
                var client = await store.ClientAsync(ct, waitForSession: true).ConfigureAwait(false);
                await store.EnsurePathAsync(client, store._rootPath, ct).ConfigureAwait(false);
            }, timeout.Token).ConfigureAwait(false);
            return store;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            await store.DisposeAsync().ConfigureAwait(false);
            var message = $"No ZooKeeper server of {options.ConnectionString} opened a session within {options.ConnectTimeout.TotalSeconds:0.#} s";
            if (Volatile.Read(ref store._lastOpenFailure) is ZooKeeperTlsException tls)
            {
                throw new StoreTlsException($"{message}: {tls.Message}", tls);
            }

            throw new StoreException(message + ".", ex);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public StoreBackend Backend => StoreBackend.ZooKeeper;

    /// <inheritdoc />
    public IStoreSession Session
    {
        get
        {
            lock (_lock)
            {
                // An ended session is replaced at once by a new one that starts in Connecting.
                if (_session.Ended.IsCompleted && !_session.Closing && !_disposing.IsCancellationRequested)
                {
                    Interlocked.Exchange(ref _seenFloor, Math.Max(_seenFloor, LastZxidOf(_session)));
                    ZooKeeperStoreLog.SessionReplaced(_logger, _session.Id);
                    _session = OpenSession();
                }

                return _session;
            }
        }
    }

    /// <inheritdoc />
    public long SeenRevision
    {
        get
        {
            lock (_lock)
            {
                return Math.Max(_seenFloor, LastZxidOf(_session));
            }
        }
    }

    /// <summary>Closes the session (its ephemeral nodes are deleted at once) and stops every watch.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        ZooKeeperStoreSession session;
        lock (_lock)
        {
            session = _session;
        }

        await session.CloseAsync().ConfigureAwait(false);
    }

    /// <summary>The znode path of <paramref name="key"/>.</summary>
    internal string PathOf(string key) => key.Length == 0 ? _rootPath : _rootPath + "/" + key;

    /// <summary>The key of a znode path under the root.</summary>
    internal string KeyOf(string path) => path.Length > _rootPath.Length + 1 ? path[(_rootPath.Length + 1)..] : string.Empty;

    /// <summary>The open client of the current session, waiting while a new session is being opened: at most
    /// <see cref="ZooKeeperStoreOptions.RequestTimeout"/> (then <see cref="StoreUnavailableException"/>, so a request
    /// during a whole-store outage fails in bounded time, as on etcd), or as long as
    /// <paramref name="cancellationToken"/> allows when <paramref name="waitForSession"/> (watches, connecting).</summary>
    /// <exception cref="StoreUnavailableException">No session opened within the request timeout.</exception>
    /// <exception cref="StoreRolledBackException">The ensemble went back in time (<see cref="CheckRolledBackAsync"/>).</exception>
    internal async Task<ZooKeeperClient> ClientAsync(CancellationToken cancellationToken, bool waitForSession = false)
    {
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        if (Volatile.Read(ref _rolledBack) is { } rolledBack)
        {
            throw new StoreRolledBackException(rolledBack.Message, rolledBack);
        }

        var session = (ZooKeeperStoreSession)Session;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        try
        {
            return waitForSession || session.Client.IsCompleted
                ? await session.Client.WaitAsync(linked.Token).ConfigureAwait(false)
                : await session.Client.WaitAsync(_options.RequestTimeout, _time, linked.Token).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new StoreUnavailableException(
                $"No ZooKeeper session is open: the servers of {_options.ConnectionString} did not open one within {_options.RequestTimeout.TotalSeconds:0.#} s (unreachable, no quorum, or refusing it).", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(ZooKeeperCoordinationStore));
        }
    }

    private ZooKeeperStoreSession OpenSession()
    {
        var session = new ZooKeeperStoreSession(_options.SessionTimeout);
        _ = OpenAsync(session);
        return session;
    }

    /// <summary>Opens the session's client, retrying with a capped, jittered backoff until the store is disposed.
    /// Once every attempt has failed for <see cref="RolledBackAfter"/> session timeouts, checks whether the servers
    /// are behind the zxid this process has seen (<see cref="CheckRolledBackAsync"/>).</summary>
    private async Task OpenAsync(ZooKeeperStoreSession session)
    {
        var floor = Interlocked.Read(ref _seenFloor);
        var started = _time.GetTimestamp();
        // Until disposed (or the session is closed): a store without a session is useless.
        try
        {
            await _reopen.ExecuteAsync(async ct =>
            {
                if (session.Closing)
                {
                    return;
                }

                ZooKeeperClient client;
                try
                {
                    client = await ZooKeeperClient.ConnectAsync(
                        new ZooKeeperClientOptions
                        {
                            ConnectionString = _options.ConnectionString,
                            SessionTimeout = _options.SessionTimeout,
                            ConnectTimeout = _options.ConnectTimeout,
                            // A new session must not read older state than the ended one saw (a lagging follower refuses it).
                            LastZxidSeen = floor,
                            RequestTimeout = _options.RequestTimeout,
                            WatchEventCapacity = _options.WatchEventCapacity,
                            Tls = _options.Tls,
                            TimeProvider = _time,
                        }.WithAuth(_options),
                        _loggerFactory,
                        ct).ConfigureAwait(false);
                }
                catch (ZooKeeperException) when (floor > 0 && _rolledBack is null && _time.GetElapsedTime(started) > RolledBackAfter * _options.SessionTimeout)
                {
                    await CheckRolledBackAsync(floor, ct).ConfigureAwait(false);
                    throw;
                }

                if (session.Closing)
                {
                    await client.CloseAsync().ConfigureAwait(false);
                    return;
                }

                session.Opened(client);
                ZooKeeperStoreLog.SessionOpened(_logger, client.SessionId, client.NegotiatedSessionTimeout.TotalMilliseconds);
            }, _disposing.Token).ConfigureAwait(false);
        }
        catch (Exception) when (_disposing.IsCancellationRequested)
        {
            // Disposed while opening (a connect cut short fails as it likes).
        }
    }

    /// <summary>Creates <paramref name="path"/> and its missing ancestors as empty persistent znodes.</summary>
    private async Task EnsurePathAsync(ZooKeeperClient client, string path, CancellationToken cancellationToken)
    {
        if (_knownDirectories.ContainsKey(path))
        {
            return;
        }

        var next = 1;
        while (next > 0)
        {
            next = path.IndexOf('/', next + 1);
            var prefix = next < 0 ? path : path[..next];
            if (_knownDirectories.ContainsKey(prefix))
            {
                continue;
            }

            try
            {
                await client.CreateAsync(prefix, ReadOnlyMemory<byte>.Empty, acl: DirectoryAcl, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (NodeExistsException)
            {
                // Someone made it first: fine.
            }
            catch (NoAuthException)
            {
                // ZooKeeper checks the parent's CREATE right before existence: an agent may not create under the root,
                // but the directory it needs is there (cpctl store init made it).
                if (await client.ExistsAsync(prefix, cancellationToken).ConfigureAwait(false) is null)
                {
                    throw;
                }
            }

            _knownDirectories.TryAdd(prefix, 0);
        }
    }

    private static long LastZxidOf(ZooKeeperStoreSession session) =>
        session.Client.IsCompletedSuccessfully ? session.Client.Result.LastZxid : 0;

    /// <summary>Maps a client failure to the store's exceptions: a lost connection leaves a write's outcome unknown.</summary>
    private StoreException Translate(ZooKeeperException error, bool write, string what) => error switch
    {
        SessionExpiredException => new SessionLostException($"The ZooKeeper session expired during {what}.", error),
        ConnectionLossException when write => new StoreOutcomeUnknownException($"The connection was lost during {what}; it may have been applied.", error),
        RequestTimeoutException when write => new StoreOutcomeUnknownException($"{what} timed out; it may have been applied.", error),
        NoAuthException => new StorePermissionException(
            $"ZooKeeper refused {what} to identity '{_options.Username ?? "(none)"}': NoAuth on {error.Path} (docs/operations.md, \"Identities and permissions\")", error)
        { Keys = error.Path is { } path ? [KeyOf(path)] : [] },
        _ => new StoreException($"ZooKeeper failed {what}: {error.Message}", error),
    };

    /// <summary>The item a znode stands for, or null for a directory: a znode without a value exists on ZooKeeper only
    /// because keys below it do (etcd has no such key), so it reads as absent. Transactions refuse empty values.</summary>
    private static StoreItem? ToItem(string key, ReadOnlyMemory<byte> data, Stat stat) => data.IsEmpty
        ? null
        : new(key, data, stat.Czxid, stat.Mzxid, stat.Version + 1L, stat.IsEphemeral ? stat.EphemeralOwner : 0);
}
