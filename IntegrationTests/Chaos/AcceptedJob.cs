namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>A job the API accepted (201, or 200 for a keyed replay).</summary>
/// <param name="Plan">What was submitted.</param>
/// <param name="Id">The job id the API answered.</param>
/// <param name="Revision">The revision of the answer: for a 201 the job's creation revision.</param>
/// <param name="Director">Which director accepted it.</param>
/// <param name="Tries">Requests it took (a keyed job is retried on errors).</param>
/// <param name="Status">201 or 200.</param>
public sealed record AcceptedJob(JobPlan Plan, string Id, long Revision, string Director, int Tries, int Status);
