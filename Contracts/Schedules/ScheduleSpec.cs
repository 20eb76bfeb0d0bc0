using System.Text.Json.Serialization;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts.Schedules;

/// <summary>What a schedule does when a tick comes while an earlier run of it is still active.</summary>
public enum ConcurrencyPolicy
{
    /// <summary>Start the tick's run anyway (the default).</summary>
    [JsonStringEnumMemberName("allow")]
    Allow,

    /// <summary>Skip the tick, recorded as skipped with the run still active.</summary>
    [JsonStringEnumMemberName("forbid")]
    Forbid,

    /// <summary>Cancel the active runs and start the tick's run, in the same fenced write.</summary>
    [JsonStringEnumMemberName("replace")]
    Replace,
}

/// <summary>What a leader does with ticks that passed while nobody led (before its term started).</summary>
public enum CatchUpPolicy
{
    /// <summary>Fire none of them (recorded as missed).</summary>
    [JsonStringEnumMemberName("skip")]
    Skip,

    /// <summary>Fire the newest of them only (the default).</summary>
    [JsonStringEnumMemberName("latest")]
    Latest,

    /// <summary>Fire each of them, oldest first, the newest <see cref="ScheduleSpec.MaxCatchUp"/> at most.</summary>
    [JsonStringEnumMemberName("all")]
    All,
}

/// <summary>
/// A recurring job as a client defines it (<c>POST /v1/schedules</c>, <c>PUT /v1/schedules/{id}</c>) and as the
/// schedule record keeps it. Validated by the director (cron and time zone included) before it is stored.
/// </summary>
public sealed record ScheduleSpec
{
    /// <summary>Free-form label for people; not unique.</summary>
    public string? Name { get; init; }

    /// <summary>Five fields (minute hour day-of-month month day-of-week), or six with seconds first.</summary>
    public string Cron { get; init; } = "";

    /// <summary>IANA time zone the cron is read in (<c>Europe/Berlin</c>); null means UTC.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The job each tick creates: the body of <c>POST /v1/jobs</c>.</summary>
    public JobSpec? Job { get; init; }

    /// <summary>What to do when a tick comes while an earlier run is active. <value>allow.</value></summary>
    public ConcurrencyPolicy Concurrency { get; init; } = ConcurrencyPolicy.Allow;

    /// <summary>What a new leader does with ticks that passed while nobody led. <value>latest.</value></summary>
    public CatchUpPolicy CatchUp { get; init; } = CatchUpPolicy.Latest;

    /// <summary>With <see cref="CatchUpPolicy.All"/>: most missed ticks fired (the newest). Null means
    /// <see cref="Limits.DefaultMaxCatchUp"/>.</summary>
    public int? MaxCatchUp { get; init; }

    /// <summary>A tick not fired within this many seconds after its time is never fired (recorded as missed),
    /// whatever <see cref="CatchUp"/> says; null for no deadline.</summary>
    public int? StartingDeadlineSeconds { get; init; }

    /// <summary>A paused schedule fires nothing; resuming it never fires the ticks it was paused for.</summary>
    public bool Paused { get; init; }
}
