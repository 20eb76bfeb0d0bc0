using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl cancel &lt;id&gt;</c>: <c>DELETE /v1/jobs/{id}</c>. 404 unknown, 409 already finished.</summary>
internal static class CancelCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Job id." };
        var command = new Command("cancel", "Request cancellation: a pending job is cancelled at once, a running one is stopped by its agent.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var jobId = context.Parse.GetValue(id)!;
            var response = await context.Api.SendAsync(ControlPlaneRequest.CancelJob(jobId), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                // 202: accepted, not done; 'cpctl wait' shows when the job has actually stopped.
                await context.Out.WriteLineAsync($"cancellation requested: {jobId}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
