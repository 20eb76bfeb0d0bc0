using System.CommandLine;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using ControlPlane.Contracts.Doctor;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl doctor</c>: what is wrong with the cluster; exits 0, 1 or 2 for OK, WARN or FAIL.</summary>
internal static class DoctorCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var command = new Command("doctor", "Check the cluster: leader, store, timing, versions, workers, records. Exit 0 OK, 1 WARN, 2 FAIL.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.GetDoctor(), cancellationToken);
            var report = response.Value;
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                DoctorRendering.WriteReport(context.Out, report);
            }

            return report.Status switch
            {
                CheckStatus.Ok => ExitCodes.Success,
                CheckStatus.Warn => ExitCodes.DoctorWarn,
                _ => ExitCodes.DoctorFail,
            };
        });
        return command;
    }
}
