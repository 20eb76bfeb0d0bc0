using ControlPlane.Coordination.Internal;
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

    /// <summary>Replaces the metadata (kept for re-registrations too).</summary>
    /// <exception cref="StoreException">Not registered right now; the new metadata is used on re-registration.</exception>
    public async Task UpdateAsync(ReadOnlyMemory<byte> metadata, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _metadata = metadata;
        }

        var result = await _store.CommitAsync(new Transaction().Update(_key, metadata), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new StoreException($"Member {_key} is not registered right now; the new metadata applies when it is.");
        }
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
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var session = _store.Session;
                if (!ReferenceEquals(session, _session) || !_registered.Current)
                {
                    _registered.Publish(false);
                    if (await TryRegisterAsync(session, stop).ConfigureAwait(false))
                    {
                        _session = session;
                        _registered.Publish(true);
                        MembershipLog.Registered(_logger, _key, session.Id);
                    }
                    else
                    {
                        // Held by an earlier incarnation: wait until its session lets go, then try again.
                        await _store.WaitForDeletionAsync(_key, stop).ConfigureAwait(false);
                        continue;
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
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _registered.Publish(false);
                MembershipLog.RegistrationFailed(_logger, ex, _key);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 + Random.Shared.Next(200)), _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<bool> TryRegisterAsync(IStoreSession session, CancellationToken stop)
    {
        ReadOnlyMemory<byte> metadata;
        lock (_lock)
        {
            metadata = _metadata;
        }

        try
        {
            if ((await _store.CommitAsync(new Transaction().Create(_key, metadata, ephemeral: true), stop).ConfigureAwait(false)).Succeeded)
            {
                return true;
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
        return found is not null && found.Owner != 0 && (found.Owner == session.Id || found.Owner == current);
    }
}
