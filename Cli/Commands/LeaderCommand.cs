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
        var cell = new Option<string?>("--cell") { Description = "The cell whose leader to show (docs/cells.md); the default cell's when left out." };
        var command = new Command("leader", "Show the leading director: id, URL, epoch, since when.") { cell };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var named = context.Parse.GetValue(cell);
            var response = await context.Api.SendAsync(named is null ? ControlPlaneRequest.GetLeader() : ControlPlaneRequest.GetLeader(named), cancellationToken);
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
