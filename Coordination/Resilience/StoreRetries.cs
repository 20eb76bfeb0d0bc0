using Polly;

namespace ControlPlane.Coordination.Resilience;

/// <summary>
/// Every retry of the coordination layer, one named shape per purpose (docs/coordination.md lists them). Delays
/// are Polly's jittered backoff, so processes that failed together do not come back together.
/// </summary>
public static class StoreRetries
{
    /// <summary>
    /// <c>store.reconnect</c>: <see cref="Hosting.StoreConnection"/> reaching the store at start-up.
    /// <value>250 ms growing exponentially to 5 s; until the host stops (a director or agent without its store
    /// has nothing else to do, and must come up by itself when the store does).</value>
    /// </summary>
    public static readonly RetryShape Reconnect =
        new("store.reconnect", TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>store.connect</c>: the first session of a ZooKeeper store whose server drops the connection right after
    /// the handshake (busy or restarting).
    /// <value>50 ms growing to 500 ms; bounded in time by the store's ConnectTimeout, not in count.</value>
    /// </summary>
    public static readonly RetryShape Connect =
        new("store.connect", TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>store.session.zookeeper</c>: opening the replacement ZooKeeper session after one expired.
    /// <value>100 ms growing to 5 s; until the store is disposed (a store without a session is useless).</value>
    /// </summary>
    public static readonly RetryShape ZooKeeperSession =
        new("store.session.zookeeper", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>store.session.etcd</c>: granting the lease of the replacement etcd session (the cluster may be electing
    /// a leader or out of reach).
    /// <value>50 ms growing to 1 s; until the store is disposed.</value>
    /// </summary>
    public static readonly RetryShape EtcdSession =
        new("store.session.etcd", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>store.watch.resume</c>: a watch cache (<c>WatchCache</c>) following its prefix again, and the director's event
    /// hub its tree, after the watch failed or ended, paced by a <see cref="RetryPacer"/>. A watch that was delivering
    /// starts the pauses over: it resumes after one first pause (median 50 ms), so a watch that keeps failing right
    /// after each delivery cannot spin; one that fails before delivering anything waits longer each time.
    /// <value>50 ms growing to 2 s; until the cache is disposed (it must follow the store for its whole life).</value>
    /// </summary>
    public static readonly RetryShape WatchResume =
        new("store.watch.resume", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>store.rewatch.etcd</c>: the etcd store creating a watch again (a subtree watch, or one waiting for a
    /// deletion) after it failed, paced by a <see cref="RetryPacer"/>: a watch that delivers (or, waiting for a
    /// deletion, opens) starts the pauses over.
    /// <value>50 ms growing to 1 s; ten failures in a row reach the consumer as a <see cref="StoreException"/>.</value>
    /// </summary>
    public static readonly RetryShape EtcdRewatch =
        new("store.rewatch.etcd", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), MaxRetryAttempts: 9);

    /// <summary>
    /// <c>store.rewatch.zookeeper</c>: the ZooKeeper store setting a watch again (a subtree watch, or one waiting for
    /// a deletion) after the connection or the session failed it, once the store is in contact again, paced by a
    /// <see cref="RetryPacer"/>: a watch set starts the pauses over. The pause is what keeps a store that answers
    /// but fails every time (or a client that has not noticed its loss yet) from being hammered.
    /// <value>25 ms growing to 1 s; until the watch is disposed.</value>
    /// </summary>
    public static readonly RetryShape ZooKeeperRewatch =
        new("store.rewatch.zookeeper", TimeSpan.FromMilliseconds(25), TimeSpan.FromSeconds(1), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>store.write.unknown</c>: a conditional write repeated unchanged after its outcome was unknown (the answer
    /// was lost). Only for writes whose repeat either lands them or fails on a condition that shows they had landed
    /// (creating a key, deleting one that must exist): the repeat is the read-back. Callers may set the count.
    /// <value>20 ms growing to 200 ms; 3 repeats.</value>
    /// </summary>
    public static readonly RetryShape UnknownOutcome =
        new("store.write.unknown", TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(200), MaxRetryAttempts: 3);

    /// <summary>
    /// The <see cref="UnknownOutcome"/> pipeline for a write tried at most <paramref name="attempts"/> times in all,
    /// repeating only on <see cref="StoreOutcomeUnknownException"/> (any other failure is thrown at once).
    /// </summary>
    /// <param name="time">Clock of the delays (fake in tests).</param>
    /// <param name="attempts">Tries in all, at least 1.</param>
    public static ResiliencePipeline RepeatUnknownOutcome(TimeProvider time, int attempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        return (UnknownOutcome with { MaxRetryAttempts = attempts - 1 }).Build(time, ex => ex is StoreOutcomeUnknownException);
    }

    /// <summary>
    /// <c>store.sync</c>: polling etcd until it has reached a revision someone else wrote (read-your-writes across
    /// directors).
    /// <value>10 ms growing to 200 ms; bounded by the store's RequestTimeout.</value>
    /// </summary>
    public static readonly RetryShape Sync =
        new("store.sync", TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(200), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>election.resign</c>: deleting a resigning candidate's key, so the next candidate leads at once.
    /// <value>50 ms growing to 1 s; until the delete works, the session ends (the key goes with it) or the
    /// caller gives up.</value>
    /// </summary>
    public static readonly RetryShape Resign =
        new("election.resign", TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>election.retry</c>: the pause after a failed campaign step. Constant, not growing: the failover budget
    /// (<see cref="FailoverBudget"/>) counts on at most two of these.
    /// <value><see cref="Election.LeaderElectionOptions.RetryDelay"/> (200 ms) ±25 %; until the election stops.</value>
    /// </summary>
    public static RetryShape Election(TimeSpan retryDelay) =>
        new("election.retry", retryDelay, retryDelay * 2, RetryShape.UntilCancelled, DelayBackoffType.Constant);

    /// <summary>
    /// <c>membership.register</c>: registering a member again after a failed attempt.
    /// <value>300 ms ±25 %; until the registration is disposed (a member must stay registered for its life).</value>
    /// </summary>
    public static readonly RetryShape Register =
        new("membership.register", TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(600), RetryShape.UntilCancelled,
            DelayBackoffType.Constant);
}
