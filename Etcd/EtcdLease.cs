namespace ControlPlane.Etcd;

/// <summary>Where a lease stands from this client's point of view.</summary>
public enum EtcdLeaseState
{
    /// <summary>Granted and (if kept alive) renewed within its TTL.</summary>
    Alive,

    /// <summary>Expired or unconfirmed for longer than its TTL: keys attached to it must be assumed deleted and
    /// any leadership fenced by it is over. Final.</summary>
    Lost,

    /// <summary>Revoked by this client. Final.</summary>
    Revoked,

    /// <summary>No longer kept alive because the client was disposed; the server expires it after its TTL. Final.</summary>
    Released,
}

/// <summary>
/// A granted lease. When kept alive, the client renews it every TTL/3 on its shared keepalive stream, across
/// member failures; if no renewal is confirmed within the TTL (cluster unreachable) or etcd reports TTL ≤ 0,
/// the lease becomes <see cref="EtcdLeaseState.Lost"/>: <see cref="Lost"/> completes and <see cref="LostToken"/>
/// is cancelled, so work fenced by the lease can stop before another process may take over.
/// </summary>
public sealed class EtcdLease
{
    private readonly TaskCompletionSource<string> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lostCts = new();
    private int _state;
    private long _deadline;
    private long _nextKeepAlive;

    private readonly Func<DateTimeOffset> _clock;

    internal EtcdLease(long id, long ttlSeconds, DateTimeOffset deadline, Func<DateTimeOffset>? clock = null)
    {
        _clock = clock ?? (() => TimeProvider.System.GetUtcNow());
        Id = id;
        Ttl = TimeSpan.FromSeconds(ttlSeconds);
        Deadline = deadline;
    }

    /// <summary>The lease id (attach keys with PutRequest.Lease).</summary>
    public long Id { get; }

    /// <summary>The TTL granted by the server.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Time until <see cref="Deadline"/> on the client's monotonic clock (negative once passed).</summary>
    public TimeSpan TimeLeft => Deadline - _clock();

    /// <summary>The current state; changes once from Alive to a final state.</summary>
    public EtcdLeaseState State => (EtcdLeaseState)Volatile.Read(ref _state);

    /// <summary>The latest time the lease is known to be alive until (last confirmed renewal's send time + TTL), on
    /// the client's monotonic clock (anchored at the wall time the client was created): compare it with
    /// <see cref="TimeLeft"/>, not with <see cref="DateTimeOffset.UtcNow"/>, which a clock step may move.</summary>
    public DateTimeOffset Deadline
    {
        get => Read(ref _deadline);
        internal set => Write(ref _deadline, value);
    }

    /// <summary>Completes with the reason when the lease is lost; never completes if it is revoked or released first.</summary>
    public Task<string> Lost => _lost.Task;

    /// <summary>Cancelled when the lease is lost; pass it to work that must stop when the lease is gone.</summary>
    public CancellationToken LostToken => _lostCts.Token;

    internal DateTimeOffset NextKeepAlive
    {
        get => Read(ref _nextKeepAlive);
        set => Write(ref _nextKeepAlive, value);
    }

    /// <summary>Send times of keepalives not answered yet, oldest first. etcd answers one stream's keepalives in
    /// order, so an answer belongs to the oldest; its TTL counts from a moment after that send.</summary>
    internal System.Collections.Concurrent.ConcurrentQueue<long> Unanswered { get; } = new();

    internal void RecordSent(DateTimeOffset now) => Unanswered.Enqueue(now.UtcTicks);

    /// <summary>Extends the deadline from the oldest unanswered send; false if no send was outstanding.</summary>
    internal bool RecordAnswer(long ttlSeconds)
    {
        if (!Unanswered.TryDequeue(out var sentTicks))
        {
            return false;
        }

        var confirmed = new DateTimeOffset(sentTicks, TimeSpan.Zero) + TimeSpan.FromSeconds(ttlSeconds);
        if (confirmed > Deadline)
        {
            Deadline = confirmed;
        }

        return true;
    }

    // Times are kept as UTC ticks in longs: the ticker and the stream loop touch them from different threads,
    // and a DateTimeOffset (two fields) could be read torn.
    private static DateTimeOffset Read(ref long ticks) => new(Volatile.Read(ref ticks), TimeSpan.Zero);

    private static void Write(ref long ticks, DateTimeOffset value) => Volatile.Write(ref ticks, value.UtcTicks);

    internal bool MarkLost(string reason)
    {
        if (Interlocked.CompareExchange(ref _state, (int)EtcdLeaseState.Lost, (int)EtcdLeaseState.Alive) != (int)EtcdLeaseState.Alive)
        {
            return false;
        }

        _lost.TrySetResult(reason);
        _lostCts.Cancel();
        return true;
    }

    internal void MarkEnded(EtcdLeaseState state) =>
        Interlocked.CompareExchange(ref _state, (int)state, (int)EtcdLeaseState.Alive);
}
