using System.CommandLine;
using System.Globalization;
using System.Net;
using ControlPlane.Cli.Parsing;
using ControlPlane.Cli.Rendering;
using ControlPlane.Cli.Waiting;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl workflow submit|get|cancel</c>: graphs of jobs submitted at once (<c>/v1/workflows</c>, issue 19).</summary>
internal static class WorkflowCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliRunner runner) =>
        new("workflow", "Workflows: jobs that name each other by ref in their dependsOn, submitted at once (all of them or none).")
        {
            SubmitCommand(runner),
            GetCommand(runner),
            CancelCommand(runner),
        };

    private static Command SubmitCommand(CliRunner runner)
    {
        var file = new Option<string>("--file", "-f")
        {
            Description = "The workflow as JSON, {\"name\": ..., \"jobs\": [{\"ref\": \"extract\", \"job\": {...}}]} (docs/cpctl.md; examples/etl-diamond.json), or - for standard input.",
            Required = true,
        };
        var key = new Option<string?>("--idempotency-key", "-k")
        {
            Description = "Submitting again with the same key returns the first workflow (and finishes submitting one that stopped half-way) instead of a new one.",
        };
        var wait = new Option<bool>("--wait") { Description = "Wait until every job of it has finished; exit 0 only if all Succeeded, 3 if one did not, 5 on timeout." };
        var waitTimeout = new Option<string?>("--wait-timeout") { Description = $"Give up waiting after this long (default {WaitCommand.DefaultTimeout})." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the workflow id." };
        var retryFor = new Option<string?>("--retry-for")
        {
            Description = $"While the director refuses new jobs (429: too many pending), wait its Retry-After and try again for at most this long; 0 never retries (default {BusyRetry.DefaultRetryFor}).",
        };
        var command = new Command("submit", "Submit a workflow from a JSON file: cpctl workflow submit -f examples/etl-diamond.json -k etl-2026-03-01 --wait")
        {
            file, key, wait, waitTimeout, quiet, retryFor,
        };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var parse = context.Parse;
            // Everything that can be wrong on this side is found before anything is sent.
            var spec = WorkflowFile.Read(context.Environment, parse.GetValue(file)!);
            var retry = BusyRetry.ParseRetryFor(parse.GetValue(retryFor));
            var waitText = parse.GetValue(waitTimeout) ?? WaitCommand.DefaultTimeout;
            var timeout = Durations.Parse(waitText, "--wait-timeout");
            var idempotencyKey = parse.GetValue(key) is { Length: > 0 } k ? k : null;

            // A 429 created nothing, so the same request may be sent again; with a key even a lost answer is safe.
            var response = await BusyRetry.Create(context.Environment, retry).ExecuteAsync(
                async token => await context.Api.SendAsync(ControlPlaneRequest.SubmitWorkflow(spec, idempotencyKey), token), cancellationToken);
            var workflow = response.Value;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                // 200 instead of 201: the key was used before; this is that workflow (resumed if it had stopped half-way).
                await context.Error.WriteLineAsync($"idempotency key already used: returning the existing workflow {workflow.Id}");
            }

            if (!parse.GetValue(wait))
            {
                if (context.Json)
                {
                    JsonOutput.Write(context.Out, response.Content);
                }
                else if (parse.GetValue(quiet))
                {
                    await context.Out.WriteLineAsync(workflow.Id);
                }
                else
                {
                    WorkflowRendering.WriteSummary(context.Out, workflow, context.Now);
                }

                return ExitCodes.Success;
            }

            await context.Error.WriteLineAsync($"submitted workflow {workflow.Id} ({workflow.Jobs.Count.ToString(CultureInfo.InvariantCulture)} jobs); waiting for it to finish");
            var outcome = await WorkflowWaiter.WaitAsync(context, workflow, JsonOutput.Node(response.Content), timeout, cancellationToken);
            return WaitReporting.Report(context, outcome, waitText);
        });
        return command;
    }

    private static Command GetCommand(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Workflow id." };
        var minRevision = new Option<long?>("--min-revision")
        {
            Description = "Answer from a store state at least this recent (e.g. the revision a submit returned).",
        };
        var command = new Command("get", "Show a workflow: its state, its jobs per state, and each job with its ref, state and what it runs after.") { id, minRevision };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetWorkflow(context.Parse.GetValue(id)!, context.Parse.GetValue(minRevision)), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                WorkflowRendering.WriteSummary(context.Out, response.Value, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CancelCommand(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Workflow id." };
        var command = new Command("cancel", "Cancel what has not run: waiting and pending jobs at once, running ones are stopped by their agents; finished jobs stay.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var workflowId = context.Parse.GetValue(id)!;
            var response = await context.Api.SendAsync(ControlPlaneRequest.CancelWorkflow(workflowId), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                // 202: accepted, not done; 'cpctl workflow get' shows when its running jobs have actually stopped.
                await context.Out.WriteLineAsync($"cancellation requested: {workflowId}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
