using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts.Workflows;

/// <summary>
/// A graph of jobs submitted together (<c>POST /v1/workflows</c>): every node is created, or none is. Nodes name each
/// other by <see cref="WorkflowNode.Ref"/> in their <c>dependsOn</c> (<c>{"ref": "extract"}</c>); a node may also
/// depend on a job that already exists (<c>{"job": "&lt;id&gt;"}</c>).
/// </summary>
public sealed record WorkflowSpec
{
    /// <summary>Optional name, for people (at most <see cref="Limits.MaxNameLength"/> characters).</summary>
    public string? Name { get; init; }

    /// <summary>The nodes, 1 to <see cref="Limits.MaxWorkflowNodes"/>, in any order.</summary>
    public List<WorkflowNode> Jobs { get; init; } = [];
}

/// <summary>One node of a <see cref="WorkflowSpec"/>: a job and the name the other nodes use for it.</summary>
public sealed record WorkflowNode
{
    /// <summary>The node's name within its workflow: 1 to <see cref="Limits.MaxWorkflowRefLength"/> characters of
    /// letters, digits, '.', '_' and '-', unique in the workflow.</summary>
    public string Ref { get; init; } = "";

    /// <summary>The job, as for <c>POST /v1/jobs</c>; its <c>dependsOn</c> entries may use <c>ref</c>.</summary>
    public JobSpec Job { get; init; } = new();
}
