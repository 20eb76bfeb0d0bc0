using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl workers</c>: registered workers with state, slots and capabilities.</summary>
internal static class WorkersCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var command = new Command("workers", "List registered workers: state (ready, draining, suspect), used/total slots, executors, labels.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.ListWorkersAsync(cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.ReadNode());
            }
            else
            {
                ClusterRendering.WriteWorkers(context.Out, response.Read<WorkerView[]>(), context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
