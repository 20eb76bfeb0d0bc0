using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl get &lt;id&gt;</c>: one job with every field and its output tail.</summary>
internal static class GetCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Job id." };
        var minRevision = new Option<long?>("--min-revision")
        {
            Description = "Answer from a store state at least this recent (e.g. the revision a submit returned).",
        };
        var command = new Command("get", "Show one job: spec, state, attempt, worker, times, exit code, output tail.") { id, minRevision };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetJob(context.Parse.GetValue(id)!, context.Parse.GetValue(minRevision)), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                JobRendering.WriteDetail(context.Out, response.Value, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
