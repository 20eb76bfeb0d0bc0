using System.Globalization;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Cli.Rendering;

/// <summary>A workflow as text (<c>workflow get</c>, <c>workflow submit</c>): its state and counts, then one row per
/// node.</summary>
internal static class WorkflowRendering
{
    /// <summary>What the view shows for a node whose job no longer exists (or was not written yet while staging).</summary>
    public const string Removed = "Removed";

    /// <summary>The header lines, a blank line, and a table of the nodes in the order they were submitted: ref, job id,
    /// state, what it runs after (by ref, as <c>--after</c> writes it), and why it did not succeed.</summary>
    public static void WriteSummary(TextWriter writer, WorkflowView workflow, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(workflow);
        var lines = new List<(string Key, string? Value)>
        {
            ("workflow", workflow.Id),
            ("name", workflow.Name),
            ("state", StateText(workflow)),
            ("error", workflow.Error),
            ("jobs", CountsText(workflow)),
            ("created", JobRendering.When(workflow.CreatedAt, now)),
            ("finished", workflow.Finished && workflow.Jobs.Max(n => n.FinishedAt) is { } last ? JobRendering.When(last, now) : null),
            ("trace", workflow.TraceId),
        };
        foreach (var (key, value) in lines.Where(l => !string.IsNullOrEmpty(l.Value)))
        {
            writer.WriteLine($"{key + ":",-10}{value}");
        }

        writer.WriteLine();
        var table = new Table("REF", "JOB", "STATE", "AFTER", "ERROR");
        foreach (var node in workflow.Jobs)
        {
            table.Add(node.Ref, node.Job, NodeState(node), After(node), node.Error);
        }

        table.WriteTo(writer);
    }

    /// <summary>A node's state; <see cref="Removed"/> when its job no longer exists.</summary>
    public static string NodeState(WorkflowNodeView node) => node.State?.ToString() ?? Removed;

    /// <summary>E.g. <c>Committed (in progress, cancel requested)</c>.</summary>
    public static string StateText(WorkflowView workflow)
    {
        var progress = workflow.State switch
        {
            WorkflowState.Staging => "being submitted; none of its jobs runs before it is committed",
            _ when workflow.Finished => "finished",
            _ => "in progress",
        };
        return $"{workflow.State} ({progress}{(workflow.CancelRequested ? ", cancel requested" : "")})";
    }

    /// <summary>E.g. <c>4: 2 Succeeded, 1 Running, 1 Waiting</c>: states in their lifecycle order, <see cref="Removed"/>
    /// and any state this cpctl does not know last.</summary>
    public static string CountsText(WorkflowView workflow)
    {
        var c = CultureInfo.InvariantCulture;
        var order = Enum.GetNames<JobState>().Append(Removed).ToList();
        var parts = workflow.Counts
            .Where(p => p.Value > 0)
            .OrderBy(p => order.IndexOf(p.Key) is var i && i >= 0 ? i : order.Count)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Value.ToString(c)} {p.Key}");
        return $"{workflow.Jobs.Count.ToString(c)}: {string.Join(", ", parts)}";
    }

    /// <summary>The node's dependencies as <c>--after</c> takes them, by ref when the dependency is a node of the
    /// workflow (else by job id), the condition only when it is not success: <c>transform-a,cleanup:completion</c>.</summary>
    public static string After(WorkflowNodeView node) => string.Join(
        ',',
        node.DependsOn.Select(d => (d.Ref ?? d.Job) + (d.On == DependencyCondition.Success ? "" : ":" + d.On.ToString().ToLowerInvariant())));
}
