namespace ControlPlane.Contracts.Jobs;

/// <summary><c>GET /v1/jobs/counts</c>: jobs per state as the leader last published them.</summary>
/// <param name="Counts">State name → jobs in it, from the leader's job records: finished jobs count until retention
/// removes them, and <c>Assigned</c> counts every job handed to a worker, started or not (a start is in the
/// assignment record, which <c>GET /v1/jobs/{id}</c> overlays as <c>Running</c>; the records the leader counts keep
/// <c>Running</c> at 0).</param>
/// <param name="Epoch">The epoch of the leader that counted.</param>
/// <param name="At">When it published them (its clock).</param>
public sealed record JobCountsView(IReadOnlyDictionary<string, int> Counts, long Epoch, DateTimeOffset At);
