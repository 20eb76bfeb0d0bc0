using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>Everything a run recorded, gathered once the cluster is healed and every job has ended.</summary>
/// <param name="Accepted">Jobs the API accepted.</param>
/// <param name="NeverAccepted">Planned jobs no try got accepted.</param>
/// <param name="Abandoned">Unkeyed tries without an answer (each may have created an orphan job).</param>
/// <param name="Final">The final listing, by id.</param>
/// <param name="ObservedEpochs">Epochs the API showed per job and attempt over the run.</param>
/// <param name="Executions">Every agent's execution log.</param>
/// <param name="KilledAt">When each killed agent process (by pid) was killed.</param>
/// <param name="Audit">The store audit.</param>
/// <param name="Calls">Every API request.</param>
/// <param name="DirectorLogs">Every director incarnation's log, whole.</param>
/// <param name="Timeline">The faults.</param>
/// <param name="AgentCells">Each agent's cell (<c>Agent:Cell</c>), by agent id.</param>
public sealed record ChaosEvidence(
    IReadOnlyList<AcceptedJob> Accepted,
    IReadOnlyList<JobPlan> NeverAccepted,
    IReadOnlyList<string> Abandoned,
    IReadOnlyDictionary<string, JobView> Final,
    IReadOnlyDictionary<string, Dictionary<int, HashSet<long>>> ObservedEpochs,
    IReadOnlyList<ExecutionEvent> Executions,
    IReadOnlyDictionary<int, DateTimeOffset> KilledAt,
    StoreAudit Audit,
    IReadOnlyList<ApiCall> Calls,
    IReadOnlyList<string> DirectorLogs,
    FaultTimeline Timeline,
    IReadOnlyDictionary<string, string> AgentCells);
