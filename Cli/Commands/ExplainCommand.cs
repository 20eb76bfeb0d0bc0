using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl explain &lt;id&gt;</c>: why a job is (not) running, in plain words.</summary>
internal static class ExplainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Job id." };
        var command = new Command("explain", "Say why a job is not running (or where and since when it runs), with counts.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.ExplainJob(context.Parse.GetValue(id)!), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                DoctorRendering.WriteExplanation(context.Out, response.Value, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
