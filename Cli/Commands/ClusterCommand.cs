using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl cluster</c>: store, session, leader and every live director.</summary>
internal static class ClusterCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var command = new Command("cluster", "Show the store, the answering director's session, the leader and every live director.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetCluster(), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                ClusterRendering.WriteCluster(context.Out, response.Value, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
