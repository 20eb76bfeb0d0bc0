using System.Runtime.CompilerServices;
using ControlPlane.Etcd;

namespace ControlPlane.Coordination.Etcd;

/// <summary>
/// A session of an <see cref="EtcdCoordinationStore"/>: one etcd lease, kept alive by the client every third of
/// its TTL. Ephemeral keys are put with the lease and vanish when it expires or is revoked.
/// </summary>
/// <remarks>
/// <para>States: <see cref="SessionState.Connecting"/> until the lease is granted; <see cref="SessionState.Connected"/>
/// while keepalives are confirmed; <see cref="SessionState.Suspended"/> once no keepalive has been confirmed for
/// two thirds of the TTL (the lease may still live, but it is close to expiry); <see cref="SessionState.Lost"/> when
/// the client saw no confirmation within the TTL or etcd reported the lease gone; <see cref="SessionState.Closed"/>
/// after the store revoked it on disposal.</para>
/// <para><see cref="ProvablyAliveFor"/> counts from the send time of the last confirmed keepalive, so it never
/// overestimates: the server starts its TTL later than that.</para>
/// </remarks>
public sealed class EtcdStoreSession : IStoreSession
{
    private readonly TimeSpan _requestedTtl;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<EtcdLease> _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile EtcdLease? _lease;
    private int _final; // 0 while live, else the terminal SessionState

    internal EtcdStoreSession(TimeSpan requestedTtl, TimeProvider time)
    {
        _requestedTtl = requestedTtl;
        _time = time;
    }

    /// <summary>The etcd lease id (0 until the lease is granted).</summary>
    public long Id => _lease?.Id ?? 0;

    /// <summary>The TTL etcd granted (the requested TTL until then).</summary>
    public TimeSpan Timeout => _lease?.Ttl ?? _requestedTtl;

    /// <inheritdoc />
    public TimeSpan RequestedTimeout => _requestedTtl;

    /// <inheritdoc />
    public SessionState State
    {
        get
        {
            var final = Volatile.Read(ref _final);
            if (final != 0)
            {
                return (SessionState)final;
            }

            if (_lease is not { } lease)
            {
                return SessionState.Connecting;
            }

            // The lease's own verdict comes first; its deadline tells how close to expiry a live lease is.
            return lease.State switch
            {
                EtcdLeaseState.Alive => lease.TimeLeft < lease.Ttl / 3 ? SessionState.Suspended : SessionState.Connected,
                EtcdLeaseState.Lost => SessionState.Lost,
                _ => SessionState.Closed,
            };
        }
    }

    /// <inheritdoc />
    public TimeSpan ProvablyAliveFor =>
        Volatile.Read(ref _final) == 0 && _lease is { State: EtcdLeaseState.Alive } lease
            ? lease.TimeLeft
            : TimeSpan.Zero;

    /// <inheritdoc />
    public Task Ended => _ended.Task;

    /// <summary>The lease, once granted (for diagnostics and tests).</summary>
    public EtcdLease? Lease => _lease;

    /// <summary>Completes with the lease once it is granted; faults with <see cref="SessionLostException"/> if the
    /// session ends first.</summary>
    internal Task<EtcdLease> Established => _established.Task;

    /// <inheritdoc />
    public async IAsyncEnumerable<SessionState> WatchStateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = State;
        yield return last;
        // Not a retry: polled rather than pushed, the state is derived from the lease deadline, which moves with the clock.
        var interval = TimeSpan.FromTicks(Math.Clamp(Timeout.Ticks / 30, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromMilliseconds(100).Ticks));
        while (last is not (SessionState.Lost or SessionState.Closed))
        {
            var tick = Task.Delay(interval, _time, cancellationToken);
            // Wake early on the grant or the end; a task already completed would turn the poll into a spin.
            await (_established.Task.IsCompleted
                ? Task.WhenAny(tick, _ended.Task)
                : Task.WhenAny(tick, _ended.Task, _established.Task)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            var now = State;
            if (now != last)
            {
                last = now;
                yield return now;
            }
        }
    }

    /// <summary>Attaches the granted lease; false (and nothing attached) if the session already ended.</summary>
    internal bool Establish(EtcdLease lease)
    {
        if (Volatile.Read(ref _final) != 0)
        {
            return false;
        }

        _lease = lease;
        _established.TrySetResult(lease);
        // The client declares the loss (deadline passed unconfirmed, or etcd answered TTL <= 0).
        _ = lease.Lost.ContinueWith(static (_, state) => ((EtcdStoreSession)state!).End(SessionState.Lost), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    /// <summary>Ends the session as closed by its owner; returns the lease to revoke, if one was granted and still alive.</summary>
    /// <summary>Ends the session as lost without waiting for its lease: the store it lives in went back in time.</summary>
    internal void MarkLost() => End(SessionState.Lost);

    internal EtcdLease? Close() => End(SessionState.Closed) && _lease is { State: EtcdLeaseState.Alive } lease ? lease : null;

    private bool End(SessionState final)
    {
        if (Interlocked.CompareExchange(ref _final, (int)final, 0) != 0)
        {
            return false;
        }

        _established.TrySetException(new SessionLostException($"The session ended ({final}) before its lease was granted."));
        // Nobody may be waiting for Established: observe the exception so it is not reported as unobserved.
        _ = _established.Task.Exception;
        _ended.TrySetResult();
        return true;
    }
}
