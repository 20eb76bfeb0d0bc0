namespace ControlPlane.Contracts.Jobs;

/// <summary>
/// A concurrency limit shared by every job that names the same <see cref="Key"/> (<see cref="JobSpec.Concurrency"/>):
/// a job is placed only while fewer than <see cref="Limit"/> jobs with its key are Assigned or Running, across leader
/// failovers (docs/jobs.md, "Concurrency limits per key").
/// </summary>
/// <remarks>Each job is judged by its own limit: jobs of one key that carry different limits each start only while the
/// key's count is below theirs, so a job with limit 2 waits while 2 of the key are out even if another job of the key
/// allows 5.</remarks>
public sealed record JobConcurrency
{
    /// <summary>The key: any characters but control characters, 1 to <see cref="Limits.MaxConcurrencyKeyLength"/>,
    /// compared exactly (ordinal).</summary>
    public string Key { get; init; } = "";

    /// <summary>Most jobs with <see cref="Key"/> out on workers at once, from 1 to <see cref="Limits.MaxConcurrencyLimit"/>.</summary>
    public int Limit { get; init; }
}
