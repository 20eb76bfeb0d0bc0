namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// Life cycle of a job: [Waiting →] Pending → Assigned → Running → Succeeded | Failed | Cancelled; a Waiting job may
/// also end Skipped (a dependency ended in a state its condition rules out) or Cancelled. docs/jobs.md has the rules.
/// </summary>
public enum JobState
{
    /// <summary>Not eligible yet: its <c>runAt</c> (or <c>delaySeconds</c>) has not passed on the leader's clock, or a
    /// dependency (<c>dependsOn</c>) is not final. The leader moves it to Pending, or to Skipped.</summary>
    Waiting,

    /// <summary>Waiting for a worker (also after a lost attempt, until its backoff has passed).</summary>
    Pending,

    /// <summary>Written to a worker's assignments; the agent has not confirmed the start yet.</summary>
    Assigned,

    /// <summary>The agent confirmed the start.</summary>
    Running,

    /// <summary>Exited with code 0 (terminal).</summary>
    Succeeded,

    /// <summary>Attempts spent, or failed for a reason retries cannot mend (terminal).</summary>
    Failed,

    /// <summary>Cancelled on request (terminal).</summary>
    Cancelled,

    /// <summary>Never ran: a dependency ended in a state its condition rules out (terminal). Its own dependents on
    /// success or failure are skipped in turn.</summary>
    Skipped,
}

/// <summary>Helpers over <see cref="JobState"/>.</summary>
public static class JobStates
{
    /// <summary>True for Succeeded, Failed, Cancelled and Skipped.</summary>
    public static bool IsTerminal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Skipped;
}
