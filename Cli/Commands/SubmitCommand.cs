using System.CommandLine;
using System.Net;
using ControlPlane.Cli.Parsing;
using ControlPlane.Cli.Rendering;
using ControlPlane.Cli.Waiting;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl submit &lt;executor&gt; [-- argv...]</c>: <c>POST /v1/jobs</c>, optionally waiting for the result.</summary>
internal static class SubmitCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var o = new SubmitOptions();
        var command = new Command("submit", "Submit a job. Shell jobs take their argv after '--': cpctl submit shell -- /bin/echo hello");
        o.AddTo(command);
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var spec = o.ToSpec(context.Parse);
            var retryFor = BusyRetry.ParseRetryFor(context.Parse.GetValue(o.RetryFor));
            var key = context.Parse.GetValue(o.IdempotencyKey) is { Length: > 0 } k ? k : null;
            // A 429 created nothing, so the same request may be sent again; with a key even a lost answer is safe.
            var response = await BusyRetry.Create(context.Environment, retryFor).ExecuteAsync(
                async token => await context.Api.SendAsync(ControlPlaneRequest.SubmitJob(spec, key), token), cancellationToken);
            var job = response.Value;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                // 200 instead of 201: the key was used before; this is that job, not a new one.
                await context.Error.WriteLineAsync($"idempotency key already used: returning the existing job {job.Id}");
            }

            if (!context.Parse.GetValue(o.Wait))
            {
                WriteSubmitted(context, response, job, context.Parse.GetValue(o.Quiet));
                return ExitCodes.Success;
            }

            await context.Error.WriteLineAsync($"submitted {job.Id}; waiting for it to finish");
            var waitText = context.Parse.GetValue(o.WaitTimeout) ?? WaitCommand.DefaultTimeout;
            var timeout = Durations.Parse(waitText, "--wait-timeout");
            var outcome = await JobWaiter.WaitAsync(context, [job.Id], timeout, response.Revision ?? job.Revision, cancellationToken);
            return WaitReporting.Report(context, outcome, waitText);
        });
        return command;
    }

    private static void WriteSubmitted(CommandContext context, ControlPlaneResponse<JobView> response, JobView job, bool quiet)
    {
        if (context.Json)
        {
            JsonOutput.Write(context.Out, response.Content);
        }
        else if (quiet)
        {
            context.Out.WriteLine(job.Id);
        }
        else
        {
            JobRendering.WriteTable(context.Out, [job], context.Now);
        }
    }
}
