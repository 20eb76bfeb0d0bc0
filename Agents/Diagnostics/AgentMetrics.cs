using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ControlPlane.Agents.Diagnostics;

/// <summary>The agent's one <see cref="Meter"/>, <c>ControlPlane.Agent</c>, shared by every agent in the process;
/// exported by the agent's HTTP port (<see cref="AgentHttpEndpoint"/>) and over OTLP when a collector is configured.</summary>
internal static class AgentMetrics
{
    public const string MeterName = "ControlPlane.Agent";

    private static readonly Meter Meter = new(MeterName, WorkerIdentity());
    private static readonly Counter<long> Started = Meter.CreateCounter<long>("controlplane.agent.attempts.started", "{attempt}", "Attempts whose executor started.");
    private static readonly Counter<long> Finished = Meter.CreateCounter<long>("controlplane.agent.attempts.finished", "{attempt}", "Attempts that ended, by reported state.");
    private static readonly Counter<long> Rejected = Meter.CreateCounter<long>("controlplane.agent.attempts.rejected", "{attempt}", "Reports refused because the assignment was gone.");
    private static readonly Counter<long> Fenced = Meter.CreateCounter<long>("controlplane.agent.attempts.fenced", "{attempt}", "Attempts killed by self-fencing.");

    public static void AttemptStarted()
    {
        if (Started.Enabled)
        {
            Started.Add(1);
        }
    }

    public static void AttemptFinished(string state)
    {
        if (Finished.Enabled)
        {
            Finished.Add(1, new TagList { { "state", state } });
        }
    }

    public static void ReportRejected()
    {
        if (Rejected.Enabled)
        {
            Rejected.Add(1);
        }
    }

    public static void AttemptFenced()
    {
        if (Fenced.Enabled)
        {
            Fenced.Add(1);
        }
    }

    /// <summary>Adds 0 to the counters without labels, so their series exist before the first event (an alert on
    /// <c>increase(...)</c> of <c>fenced</c> or <c>rejected</c> misses a series that appears at 1). Call once the
    /// exporters listen: a measurement with no listener is dropped.</summary>
    public static void ZeroRareSeries()
    {
        Started.Add(0);
        Rejected.Add(0);
        Fenced.Add(0);
    }

    private static string WorkerIdentity() => Runtime.WorkerIdentity.Version;
}
