using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl cells</c>: every cell with its leader, epoch, workers and pending jobs (docs/cells.md).</summary>
internal static class CellsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var command = new Command("cells", "List the cells: each one's leading director, epoch, registered workers and pending jobs.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetCells(), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                ClusterRendering.WriteCells(context.Out, response.Value);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
