using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl cell pin|unpin|list</c>: which director versions may lead a cell (docs/cells.md, "Version-gated
/// leadership").</summary>
internal static class CellCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliRunner runner) =>
        new("cell", "Cell leadership policies: which director versions may lead each cell.")
        {
            PinCommand(runner),
            UnpinCommand(runner),
            ListCommand(runner),
        };

    private static Command PinCommand(CliRunner runner)
    {
        var cell = new Argument<string>("cell") { Description = "The cell ('default' for the root's; see 'cpctl cells')." };
        var versions = new Argument<string[]>("version") { Description = "Director versions allowed to lead it: exact, or a prefix ending in '*' (quote it: '2.4.*').", Arity = ArgumentArity.OneOrMore };
        var command = new Command("pin", "Let only directors of these versions lead the cell; others leave its election (resigning if they lead it), and the cell waits when none runs.") { cell, versions };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.PinCell(context.Parse.GetValue(cell)!, context.Parse.GetValue(versions)!), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                await context.Out.WriteLineAsync($"cell {response.Value.Cell} may be led by director versions {string.Join(", ", response.Value.AllowedVersions)}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command UnpinCommand(CliRunner runner)
    {
        var cell = new Argument<string>("cell") { Description = "The cell ('default' for the root's)." };
        var command = new Command("unpin", "Remove the cell's policy: any director version may lead it again.") { cell };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var name = context.Parse.GetValue(cell)!;
            await context.Api.UnpinCellAsync(name, cancellationToken);
            await context.Out.WriteLineAsync($"cell {name} may be led by any director version");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListCommand(CliRunner runner)
    {
        var command = new Command("list", "Every cell with its leader and the director versions allowed to lead it; a cell without a leader says why.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetCells(), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                ClusterRendering.WriteCellPolicies(context.Out, response.Value);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
