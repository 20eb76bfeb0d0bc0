using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl leader</c>: the leading director; exit 1 (503) while none leads.</summary>
internal static class LeaderCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var command = new Command("leader", "Show the leading director: id, URL, epoch, since when.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetLeader(), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                ClusterRendering.WriteLeader(context.Out, response.Value, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
