using System.Globalization;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Rendering;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Cli.Waiting;

/// <summary>Prints a <see cref="WaitOutcome"/> (or a <see cref="WorkflowWaitOutcome"/>) and says on stderr why it is not a success.</summary>
internal static class WaitReporting
{
    /// <summary>Writes the jobs (table, or JSON: one object for one job, an array for several) and returns the exit code.</summary>
    public static int Report(CommandContext context, WaitOutcome outcome, string timeoutText)
    {
        if (context.Json)
        {
            JsonOutput.Write(context.Out, outcome.Bodies.Count == 1
                ? outcome.Bodies[0]
                : new JsonArray([.. outcome.Bodies.Select(b => b?.DeepClone())]));
        }
        else
        {
            JobRendering.WriteTable(context.Out, outcome.Jobs, context.Now);
        }

        var c = CultureInfo.InvariantCulture;
        if (outcome.TimedOut)
        {
            var open = outcome.Jobs.Count(j => !j.State.IsTerminal());
            context.Error.WriteLine($"timed out after {timeoutText}: {open.ToString(c)} of {outcome.Jobs.Count.ToString(c)} jobs not finished");
        }
        else if (outcome.ExitCode == ExitCodes.NotSucceeded)
        {
            foreach (var job in outcome.Jobs.Where(j => j.State != JobState.Succeeded))
            {
                var why = job.Error ?? (job.ExitCode is { } code ? $"exit code {code.ToString(c)}" : "no reason recorded");
                context.Error.WriteLine($"{job.Id} {job.State}: {why}");
            }
        }

        return outcome.ExitCode;
    }

    /// <summary>Writes the workflow (its summary, or its JSON) and returns the exit code; on stderr, when it is not a
    /// success, one line per job that did not succeed: ref, job id, state and why.</summary>
    public static int Report(CommandContext context, WorkflowWaitOutcome outcome, string timeoutText)
    {
        var workflow = outcome.Workflow;
        if (context.Json)
        {
            JsonOutput.Write(context.Out, outcome.Body);
        }
        else
        {
            WorkflowRendering.WriteSummary(context.Out, workflow, context.Now);
        }

        var c = CultureInfo.InvariantCulture;
        if (outcome.TimedOut)
        {
            var open = workflow.Jobs.Count(n => n.State is { } state && !state.IsTerminal());
            context.Error.WriteLine($"timed out after {timeoutText}: {open.ToString(c)} of {workflow.Jobs.Count.ToString(c)} jobs not finished");
        }
        else if (outcome.ExitCode == ExitCodes.NotSucceeded)
        {
            if (workflow.State != WorkflowState.Committed)
            {
                context.Error.WriteLine($"workflow {workflow.Id} {workflow.State}: {workflow.Error ?? "no reason recorded"}");
            }

            foreach (var node in workflow.Jobs.Where(n => n.State != JobState.Succeeded))
            {
                var why = node.State is null ? "removed after its retention; its outcome is not known" : node.Error ?? "no reason recorded";
                context.Error.WriteLine($"{node.Ref ?? "-"} {node.Job} {WorkflowRendering.NodeState(node)}: {why}");
            }
        }

        return outcome.ExitCode;
    }
}
