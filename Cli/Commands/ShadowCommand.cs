using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl shadow &lt;cell&gt;</c>: the shadow directors following a cell and how their placements compared
/// with the leader's (docs/cells.md, "Shadow directors").</summary>
internal static class ShadowCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var cell = new Argument<string>("cell") { Description = "The cell (see 'cpctl cells'); 'default' for the root's." };
        var command = new Command("shadow", "Show the shadow directors following a cell: placements agreed, differed and unplanned, and the last differences.") { cell };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetCellShadows(context.Parse.GetValue(cell)!), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                ShadowRendering.Write(context.Out, context.Parse.GetValue(cell)!, response.Value, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
