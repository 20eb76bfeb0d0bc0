namespace ControlPlane.Agents;

/// <summary>
/// Runs jobs of one executor name inside the agent process. Register an implementation with
/// <see cref="AgentServiceCollectionExtensions.AddJobHandler{THandler}"/>; the agent resolves a new instance per
/// attempt from a DI scope of its own, disposed when the attempt ends.
/// </summary>
/// <remarks>
/// Honour the cancellation token: it fires when the job is cancelled, times out, is withdrawn, the
/// agent drains, or the agent fences itself because it lost contact with the store. A handler that ignores it keeps
/// running after the agent has given the attempt up, and may then overlap with the job's next attempt elsewhere:
/// use <see cref="JobContext.Epoch"/> and <see cref="JobContext.Attempt"/> to fence side effects.
/// </remarks>
public interface IJobHandler
{
    /// <summary>Runs one attempt. Return a result with exit code 0 for success; a non-zero exit code or an
    /// exception fails the attempt (the job may be retried).</summary>
    /// <param name="context">The attempt: its fencing token, arguments, environment and a progress callback.</param>
    /// <param name="cancellationToken">Stop as soon as possible when it fires (see the remarks).</param>
    Task<JobResult> RunAsync(JobContext context, CancellationToken cancellationToken);
}
