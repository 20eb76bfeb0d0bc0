using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Client;

/// <summary>The <c>/v1/workflows</c> calls (docs/jobs.md, "Workflows").</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary>
    /// <c>POST /v1/workflows</c>: submits jobs that name each other by <c>ref</c> in their <c>dependsOn</c>; all of them
    /// become visible to the scheduler at once, or none. With <paramref name="idempotencyKey"/> a repeat returns the same
    /// workflow, and resumes one whose submission stopped half-way; without one the call is never sent twice once a
    /// director may have received it.
    /// </summary>
    /// <exception cref="ControlPlaneValidationException">A node is invalid, a ref names no node, or the refs form a
    /// cycle; each field is named (<c>jobs[3].job.dependsOn[0].ref</c>). Nothing was submitted.</exception>
    /// <exception cref="ControlPlaneConflictException">The key was already used for a different workflow, or for one
    /// whose submission was aborted.</exception>
    public Task<WorkflowView> SubmitWorkflowAsync(WorkflowSpec spec, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.SubmitWorkflow(spec, idempotencyKey), cancellationToken);

    /// <summary><c>GET /v1/workflows/{id}</c>: the workflow's state, its jobs' states and the graph between them.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such workflow (or it was removed after its jobs).</exception>
    public Task<WorkflowView> GetWorkflowAsync(string id, long? minRevision = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetWorkflow(id, minRevision), cancellationToken);

    /// <summary><c>DELETE /v1/workflows/{id}</c>: cancels what has not run (Waiting and Pending jobs at once; running
    /// ones are asked to stop); finished jobs stay. Repeatable.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such workflow.</exception>
    public Task<WorkflowView> CancelWorkflowAsync(string id, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.CancelWorkflow(id), cancellationToken);
}
