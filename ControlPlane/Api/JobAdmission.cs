using ControlPlane.Director.Hosting;
using ControlPlane.Director.Telemetry;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Api;

/// <summary>
/// Admission control for <c>POST /v1/jobs</c>: applies <see cref="Admission.Check"/> to the counts this director
/// follows (<see cref="QueueStatusWatcher"/>), counts refusals and logs when the overall limit starts and stops
/// refusing. Costs no store request: a refusal is cheap, so refused clients may come back every few seconds.
/// </summary>
internal sealed class JobAdmission(QueueStatusWatcher watcher, IOptions<AdmissionOptions> options, DirectorMetrics metrics, ILogger<JobAdmission> logger)
{
    private readonly AdmissionOptions _options = options.Value;
    private int _closed;

    /// <summary>The refusal for a new job of <paramref name="group"/>, or null to admit it.</summary>
    public AdmissionRefusal? Check(string? group)
    {
        var status = watcher.Current;
        var refusal = Admission.Check(status, group, _options);
        // Logged on the transitions only (and only for the overall limit: per-group refusals can be many; see the metric).
        var closed = status is not null && _options.MaxPending > 0 && status.Pending >= _options.MaxPending;
        if (Interlocked.Exchange(ref _closed, closed ? 1 : 0) != (closed ? 1 : 0))
        {
            var setting = $"{AdmissionOptions.Section}:{nameof(AdmissionOptions.MaxPending)}";
            if (closed)
            {
                Log.AdmissionClosed(logger, status!.Pending, setting, _options.MaxPending);
            }
            else
            {
                Log.AdmissionReopened(logger, setting, _options.MaxPending, status?.Pending.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown");
            }
        }

        return refusal;
    }

    /// <summary>Counts a submission answered with 429.</summary>
    public void CountRefusal(AdmissionRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        metrics.AdmissionRefused.Add(1, new KeyValuePair<string, object?>("limit", refusal.Kind));
    }
}
