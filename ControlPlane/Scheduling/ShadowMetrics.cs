using System.Diagnostics.Metrics;

namespace ControlPlane.Director.Scheduling;

/// <summary>A shadow director's instrument on the director's meter: <c>controlplane.shadow.decisions</c> (exported as
/// <c>controlplane_shadow_decisions_total</c>), its leader's placements compared, by cell and outcome.</summary>
internal sealed class ShadowMetrics
{
    private readonly Counter<long> _decisions;

    public ShadowMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SchedulerMetrics.MeterName);
        _decisions = meter.CreateCounter<long>(
            "controlplane.shadow.decisions", "{decision}", "A shadow director's comparisons of its planner's placements with its cell's leader's, by outcome (agree, differ, unplanned).");
    }

    /// <summary>Starts every outcome's series of <paramref name="cell"/> at 0, so a rate is defined before the first one.</summary>
    public void Zero(string cell)
    {
        foreach (var outcome in Enum.GetValues<ShadowOutcome>())
        {
            Compared(cell, outcome, 0);
        }
    }

    /// <summary>Counts one comparison.</summary>
    public void Compared(string cell, ShadowOutcome outcome, int count = 1) =>
        _decisions.Add(count, new KeyValuePair<string, object?>("cell", cell), new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant()));
}
