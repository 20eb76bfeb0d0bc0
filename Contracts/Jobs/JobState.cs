namespace ControlPlane.Contracts.Jobs;

/// <summary>Life cycle of a job: Pending → Assigned → Running → Succeeded | Failed | Cancelled.</summary>
public enum JobState
{
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
}

/// <summary>Helpers over <see cref="JobState"/>.</summary>
public static class JobStates
{
    /// <summary>True for Succeeded, Failed and Cancelled.</summary>
    public static bool IsTerminal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
