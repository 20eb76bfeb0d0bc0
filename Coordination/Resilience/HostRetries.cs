namespace ControlPlane.Coordination.Resilience;

/// <summary>
/// The director's and the agents' own retries, named like the store's (<see cref="StoreRetries"/>): each is a
/// <see cref="RetryShape"/> built on the process's <see cref="TimeProvider"/>. docs/coordination.md lists them.
/// </summary>
public static class HostRetries
{
    /// <summary>
    /// <c>director.layout</c>: a director checking (or writing) the store's key layout version at start-up while the
    /// store fails (a member restarting, a dropped connection). A layout this build does not understand is final.
    /// <value>500 ms growing to 10 s; 60 attempts (about nine minutes).</value>
    /// </summary>
    public static readonly RetryShape Layout =
        new("director.layout", TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), MaxRetryAttempts: 59);

    /// <summary>
    /// <c>agent.report</c>: an agent writing an attempt's final report while the store is unreachable or the write
    /// conflicts. Bounded in time by the caller (one minute: past it the leader takes the attempt back anyway).
    /// <value>100 ms growing to 2 s; until the caller's patience ends or the agent aborts.</value>
    /// </summary>
    public static readonly RetryShape Report =
        new("agent.report", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), RetryShape.UntilCancelled);

    /// <summary>
    /// <c>agent.cell</c>: an agent of a named cell registering its cell (<c>meta/cells/&lt;cell&gt;</c>, docs/cells.md)
    /// at start-up while the store fails.
    /// <value>200 ms growing to 5 s; 60 attempts (about four minutes).</value>
    /// </summary>
    public static readonly RetryShape Cell =
        new("agent.cell", TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), MaxRetryAttempts: 59);

    /// <summary>
    /// <c>director.shadow</c>: a shadow director's following of its cell (docs/cells.md, "Shadow directors") restarted
    /// after it failed (its caches' load, or a pass that threw); past the last attempt the director stops with an error.
    /// <value>1 s growing to 30 s; 10 attempts.</value>
    /// </summary>
    public static readonly RetryShape Shadow =
        new("director.shadow", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), MaxRetryAttempts: 9);
}
