using System.Globalization;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Rendering;

/// <summary>An explanation and a doctor report as text.</summary>
internal static class DoctorRendering
{
    /// <summary>The job, its state, the deciding reason and every other one, worker and times.</summary>
    public static void WriteExplanation(TextWriter writer, JobExplanation explanation, DateTimeOffset now)
    {
        var c = CultureInfo.InvariantCulture;
        writer.WriteLine($"{"job:",-8}{explanation.Id}");
        writer.WriteLine($"{"state:",-8}{explanation.State} (attempt {explanation.Attempt.ToString(c)})");
        if (explanation.WorkerId is { } worker)
        {
            writer.WriteLine($"{"worker:",-8}{worker}");
        }

        if (explanation.Since is { } since)
        {
            writer.WriteLine($"{"since:",-8}{since.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", c)} ({Ages.Since(since, now)} ago)");
        }

        for (var i = 0; i < explanation.Reasons.Count; i++)
        {
            writer.WriteLine($"{(i == 0 ? "why:" : "also:"),-8}{explanation.Reasons[i].Message}");
        }

        if (explanation.JudgedAt is { } judged)
        {
            writer.WriteLine($"{"as of:",-8}the leader's pass published {Ages.Since(judged, now)} ago");
        }
    }

    /// <summary>One line per check (status, name, summary), then what to do and the particulars of each problem, then
    /// the overall status.</summary>
    public static void WriteReport(TextWriter writer, DoctorReport report)
    {
        foreach (var check in report.Checks)
        {
            writer.WriteLine($"{Label(check.Status),-5} {check.Name,-14} {check.Summary}");
            if (check.Status == CheckStatus.Ok)
            {
                continue;
            }

            foreach (var detail in check.Details ?? [])
            {
                writer.WriteLine($"{"",-20} - {detail}");
            }

            if (check.Action is { } action)
            {
                writer.WriteLine($"{"",-20} do: {action}");
            }
        }

        writer.WriteLine();
        writer.WriteLine($"{Label(report.Status)} (checked by director {report.DirectorId} at revision {report.Revision.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary><c>OK</c>, <c>WARN</c> or <c>FAIL</c>.</summary>
    public static string Label(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "OK",
        CheckStatus.Warn => "WARN",
        _ => "FAIL",
    };
}
