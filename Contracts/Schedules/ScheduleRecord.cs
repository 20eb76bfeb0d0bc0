using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts.Schedules;

/// <summary>How one tick of a schedule ended.</summary>
public enum TickOutcome
{
    /// <summary>Its job was created.</summary>
    [JsonStringEnumMemberName("fired")]
    Fired,

    /// <summary>Not fired: an earlier run was still active (<see cref="ConcurrencyPolicy.Forbid"/>).</summary>
    [JsonStringEnumMemberName("skipped")]
    Skipped,

    /// <summary>Not fired: it passed while nobody led (catch-up policy) or its starting deadline passed.</summary>
    [JsonStringEnumMemberName("missed")]
    Missed,

    /// <summary>A run started by hand (<c>POST /v1/schedules/{id}/trigger</c>), outside the cron.</summary>
    [JsonStringEnumMemberName("triggered")]
    Triggered,
}

/// <summary>One entry of a schedule's recent history.</summary>
/// <param name="Tick">The tick (for a run by hand, when it was asked for); for missed ticks, the newest of them.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="JobId">The job it created, if any.</param>
/// <param name="Count">Ticks this entry stands for (missed ticks are recorded together).</param>
/// <param name="Detail">Why, in words, when not fired.</param>
public sealed record ScheduleRun(DateTimeOffset Tick, TickOutcome Outcome, string? JobId = null, long Count = 1, string? Detail = null);

/// <summary>
/// The record at <c>schedules/&lt;id&gt;</c>. The definition (<see cref="Spec"/>, <see cref="Anchor"/>) is written by
/// the API; the ticks (<see cref="LastTick"/>, counters, <see cref="Recent"/>) only by the leader, in the same fenced
/// transaction that creates the tick's job. Every write is conditioned on the record's version.
/// </summary>
public sealed record ScheduleRecord
{
    /// <summary>Most entries kept in <see cref="Recent"/>.</summary>
    public const int MaxRecent = 20;

    /// <summary>Fields this build does not know, kept through rewrites during a rolling upgrade.</summary>
    [JsonExtensionData]
    public IDictionary<string, System.Text.Json.JsonElement>? Unknown { get; init; }

    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>Schedule id (the form of a job id, <see cref="JobIds"/>).</summary>
    public string Id { get; init; } = "";

    /// <summary>The definition, validated and with its job normalized.</summary>
    public ScheduleSpec Spec { get; init; } = new();

    /// <summary>When a director accepted it (its clock).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Only ticks after this fire: set to the accepting director's clock when the schedule is created,
    /// resumed, or its cron or zone changed, so none of the ticks before that moment ever fires.</summary>
    public DateTimeOffset Anchor { get; init; }

    /// <summary>The newest tick the leader has judged (fired, skipped or missed): a tick at or before it never
    /// fires again, whatever the leader's clock says.</summary>
    public DateTimeOffset? LastTick { get; init; }

    /// <summary>Epoch of the leader that last judged a tick.</summary>
    public long Epoch { get; init; }

    /// <summary>Ticks fired so far.</summary>
    public long Fired { get; init; }

    /// <summary>Ticks skipped because an earlier run was active.</summary>
    public long Skipped { get; init; }

    /// <summary>Ticks missed (passed while nobody led, or past their starting deadline).</summary>
    public long Missed { get; init; }

    /// <summary>Runs started by hand.</summary>
    public long Triggered { get; init; }

    /// <summary>The newest entries of its history, oldest first (at most <see cref="MaxRecent"/>).</summary>
    public IReadOnlyList<ScheduleRun> Recent { get; init; } = [];

    /// <summary>This record with <paramref name="runs"/> appended to its history (the newest kept).</summary>
    public IReadOnlyList<ScheduleRun> WithRecent(IEnumerable<ScheduleRun> runs)
    {
        var all = Recent.Concat(runs).ToList();
        return all.Count <= MaxRecent ? all : all[^MaxRecent..];
    }
}

/// <summary>Ids of schedules and of the jobs their ticks create.</summary>
public static class ScheduleIds
{
    /// <summary>
    /// The id of the job that the tick <paramref name="tick"/> of schedule <paramref name="scheduleId"/> creates:
    /// the first 32 hex digits of SHA-256 over both. The same tick always names the same job, so a tick can be
    /// created once only (the store refuses a second create), whichever leader fires it.
    /// </summary>
    public static string JobIdFor(string scheduleId, DateTimeOffset tick)
    {
        ArgumentNullException.ThrowIfNull(scheduleId);
        var text = $"schedule/{scheduleId}/{tick.ToUnixTimeMilliseconds()}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..JobIds.Length];
    }
}
