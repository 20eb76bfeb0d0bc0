using ControlPlane.Coordination.Internal;
using ControlPlane.Coordination.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Coordination.Membership;

/// <summary>
/// Keeps this process registered as an ephemeral member <c>&lt;group&gt;/&lt;memberId&gt;</c> with JSON metadata,
/// re-registering on every new session, until disposed.
/// </summary>
/// <remarks>
/// A member id that is still held by an earlier incarnation (its session not yet expired) is waited for, not
/// taken over: two live processes never share an id. <see cref="Registered"/> tells whether the key exists on
/// the current session; others see the member through a <see cref="Caching.WatchCache"/> of the group.
/// </remarks>
public sealed class MemberRegistration : IAsyncDisposable
{
    private readonly ICoordinationStore _store;
    private readonly string _key;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Broadcast<bool> _registered = new(false);
    private readonly Lock _lock = new();
    private ReadOnlyMemory<byte> _metadata;

    // The member key this registration holds: the session id it hangs on (its ephemeral owner), its creation revision,
    // and its version as this registration last wrote it; all 0 while not registered. Updates are conditioned on them.
    private long _owner;
    private long _created;
    private long _version;
    private Task _loop = Task.CompletedTask;
    private IStoreSession? _session;

    /// <summary>Prepares the registration of <paramref name="memberId"/> under <paramref name="groupKey"/>; call <see cref="StartAsync"/>.</summary>
    public MemberRegistration(
        ICoordinationStore store, string groupKey, string memberId, ReadOnlyMemory<byte> metadata,
        ILogger<MemberRegistration>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _key = StoreKeys.Combine(groupKey, memberId);
        _metadata = metadata;
        _logger = logger ?? NullLogger<MemberRegistration>.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The member's key.</summary>
    public string Key => _key;

    /// <summary>True while the member key exists on the current session.</summary>
    public bool Registered => _registered.Current;

    /// <summary>Registration now and every change (false after a session loss, true once re-registered).</summary>
    public IAsyncEnumerable<bool> WatchRegisteredAsync(CancellationToken cancellationToken = default) => _registered.ReadAllAsync(cancellationToken);

    /// <summary>Starts keeping the registration and returns once the member is registered the first time.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        await foreach (var registered in WatchRegisteredAsync(cancellationToken).ConfigureAwait(false))
        {
            if (registered)
            {
                return;
            }
        }
    }

    /// <summary>Replaces the metadata (kept for re-registrations too) in the member key this registration created.</summary>
    /// <remarks>
    /// The update is made only while the store's session is the one the key hangs on, and is conditioned on the key's
    /// creation revision and on the version this registration last wrote (re-read once when that is stale): so it
    /// never lands on a key that another incarnation of the same member id registered after this one's session ended
    /// (exact on etcd, whose writes are not bound to a session; on ZooKeeper a write is made on a session and fails
    /// once it has expired, and the creation check there is only existence). The key stays ephemeral: ZooKeeper keeps
    /// a znode's owner across <c>setData</c>, and the etcd adapter's update keeps the key's lease
    /// (<c>ignore_lease</c>). Concurrent updates are applied one after the other, the last one's metadata winning.
    /// </remarks>
    /// <exception cref="StoreException">Not registered right now (the new metadata is used on re-registration), or the
    /// store could not be reached.</exception>
    public async Task UpdateAsync(ReadOnlyMemory<byte> metadata, CancellationToken cancellationToken = default)
    {
        long owner;
        long created;
        long version;
        lock (_lock)
        {
            _metadata = metadata;
            (owner, created, version) = (_owner, _created, _version);
        }

        if (!_registered.Current || owner == 0 || _store.Session.Id != owner)
        {
            throw NotRegistered();
        }

        // Two rounds: a version seen stale (another update of ours landed in between) is re-read once; a key that
        // keeps changing under us is another writer's.
        for (var round = 0; round < 2; round++)
        {
            CommitResult? result = null;
            try
            {
                var update = new Transaction().RequireCreatedAt(_key, created).Update(_key, metadata, version);
                result = await _store.CommitAsync(update, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreOutcomeUnknownException)
            {
                // Decided below by what the key holds.
            }

            if (result is { Succeeded: true } && result.Items[0] is { } written)
            {
                Adopt(owner, written.Version);
                return;
            }

            var found = await _store.GetAsync(_key, cancellationToken).ConfigureAwait(false);
            if (found is null || found.Owner != owner || found.CreateRevision != created)
            {
                throw NotRegistered();
            }

            Adopt(owner, found.Version);
            if (result is null && found.Value.Span.SequenceEqual(metadata.Span))
            {
                return;
            }

            version = found.Version;
        }

        throw new StoreException($"Member {_key} changed under this registration while updating it; the update is dropped.");
    }

    /// <summary>Stops re-registering and deletes the member key (best effort: the session's end removes it anyway).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_registered.Current && _store.Session.State == SessionState.Connected)
        {
            try
            {
                await _store.CommitAsync(new Transaction().Delete(_key)).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // Expires with the session.
            }
        }

        _registered.Publish(false);
        _registered.Complete();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        // Until disposed: a member stays registered for its whole life. Each step registers (or waits for an
        // earlier incarnation to let go) and then holds the key until it is lost; a failed step is retried.
        var retry = StoreRetries.Register.Build(_time, _ => true, args =>
        {
            _registered.Publish(false);
            MembershipLog.RegistrationFailed(_logger, args.Outcome.Exception!, _key);
        });
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await retry.ExecuteAsync(async ct => await StepAsync(ct).ConfigureAwait(false), stop).ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // Disposed, possibly mid-step (a call cut short fails as it likes).
                return;
            }
        }
    }

    /// <summary>Registers on the current session if needed, then waits until the registration is lost.</summary>
    private async Task StepAsync(CancellationToken stop)
    {
        var session = _store.Session;
        if (!ReferenceEquals(session, _session) || !_registered.Current)
        {
            _registered.Publish(false);
            Hold(0, 0, 0);
            if (await TryRegisterAsync(session, stop).ConfigureAwait(false) is { } registered)
            {
                Hold(registered.Owner, registered.Created, registered.Version);
                _session = session;
                _registered.Publish(true);
                MembershipLog.Registered(_logger, _key, session.Id);
            }
            else
            {
                // Held by an earlier incarnation: wait until its session lets go, then try again.
                await _store.WaitForDeletionAsync(_key, stop).ConfigureAwait(false);
                return;
            }
        }

        // Registered: wait for the session to end, or for the key to be removed under us.
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var deleted = _store.WaitForDeletionAsync(_key, watching.Token);
        await Task.WhenAny(session.Ended, deleted).ConfigureAwait(false);
        await watching.CancelAsync().ConfigureAwait(false);
        try
        {
            await deleted.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Session ended first.
        }

        stop.ThrowIfCancellationRequested();
        _registered.Publish(false);
        MembershipLog.Lost(_logger, _key, session.Ended.IsCompleted ? "session ended" : "key deleted");
    }

    private StoreException NotRegistered() =>
        new($"Member {_key} is not registered right now; the new metadata applies when it is.");

    /// <summary>Records the member key this registration now holds (owner 0: none).</summary>
    private void Hold(long owner, long created, long version)
    {
        lock (_lock)
        {
            (_owner, _created, _version) = (owner, created, version);
        }
    }

    /// <summary>Records a version an update wrote or saw, unless the registration moved to another key meanwhile.</summary>
    private void Adopt(long owner, long version)
    {
        lock (_lock)
        {
            if (owner == _owner && version > _version)
            {
                _version = version;
            }
        }
    }

    /// <summary>Creates the member key on <paramref name="session"/>; returns its owner, creation revision and version
    /// when it is ours (created now, or found hanging on our session), null when an earlier incarnation holds it.</summary>
    private async Task<(long Owner, long Created, long Version)?> TryRegisterAsync(IStoreSession session, CancellationToken stop)
    {
        ReadOnlyMemory<byte> metadata;
        lock (_lock)
        {
            metadata = _metadata;
        }

        try
        {
            var created = await _store.CommitAsync(new Transaction().Create(_key, metadata, ephemeral: true), stop).ConfigureAwait(false);
            if (created.Succeeded && created.Items[0] is { CreateRevision: > 0 } item)
            {
                return (item.Owner != 0 ? item.Owner : session.Id, item.CreateRevision, item.Version);
            }
        }
        catch (StoreOutcomeUnknownException)
        {
            // The create may have landed: decided below by who owns the key.
        }

        // A key that hangs on our own session is ours: a create whose reply was lost, or one the store made on a
        // session that replaced the one we read before committing. Waiting for its deletion would wait forever.
        var found = await _store.GetAsync(_key, stop).ConfigureAwait(false);
        var current = _store.Session.Id;
        return found is not null && found.Owner != 0 && (found.Owner == session.Id || found.Owner == current)
            ? (found.Owner, found.CreateRevision, found.Version)
            : null;
    }
}
