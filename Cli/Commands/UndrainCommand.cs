using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl undrain &lt;workerId&gt;</c>: <c>POST /v1/workers/{id}/undrain</c>.</summary>
internal static class UndrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var id = new Argument<string>("workerId") { Description = "Worker id (see 'cpctl workers')." };
        var command = new Command("undrain", "Take a drain request back: a worker still finishing its jobs takes work again.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var workerId = context.Parse.GetValue(id)!;
            var response = await context.Api.SendAsync(ControlPlaneRequest.UndrainWorker(workerId), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                await context.Out.WriteLineAsync($"drain taken back: {workerId}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
