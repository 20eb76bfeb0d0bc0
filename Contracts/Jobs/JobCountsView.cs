namespace ControlPlane.Contracts.Jobs;

/// <summary><c>GET /v1/jobs/counts</c>: jobs per state as the leader last published them.</summary>
/// <param name="Counts">State name → jobs in it; finished jobs count until retention removes them.</param>
/// <param name="Epoch">The epoch of the leader that counted.</param>
/// <param name="At">When it published them (its clock).</param>
public sealed record JobCountsView(IReadOnlyDictionary<string, int> Counts, long Epoch, DateTimeOffset At);
