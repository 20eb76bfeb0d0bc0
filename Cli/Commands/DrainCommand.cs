using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl drain &lt;workerId&gt;</c>: <c>POST /v1/workers/{id}/drain</c>.</summary>
internal static class DrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var id = new Argument<string>("workerId") { Description = "Worker id (see 'cpctl workers')." };
        var command = new Command("drain", "Ask a worker to take no new work, finish its jobs and leave.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var workerId = context.Parse.GetValue(id)!;
            var response = await context.Api.SendAsync(ControlPlaneRequest.DrainWorker(workerId), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                await context.Out.WriteLineAsync($"drain requested: {workerId}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
