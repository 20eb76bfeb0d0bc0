namespace ControlPlane.Contracts.Schedules;

/// <summary>A schedule as the REST API returns it (<c>GET /v1/schedules/{id}</c>).</summary>
public sealed record ScheduleView
{
    /// <summary>Schedule id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The definition, with its job normalized.</summary>
    public ScheduleSpec Spec { get; init; } = new();

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Only ticks after this fire (creation, the last resume, or the last change of its cron or zone).</summary>
    public DateTimeOffset Anchor { get; init; }

    /// <summary>The newest tick the leader has judged (fired, skipped or missed); null before the first.</summary>
    public DateTimeOffset? LastTick { get; init; }

    /// <summary>The next tick that will be judged; null while paused or when the cron never fires again.</summary>
    public DateTimeOffset? NextTick { get; init; }

    /// <summary>Ticks fired.</summary>
    public long Fired { get; init; }

    /// <summary>Ticks skipped because an earlier run was active.</summary>
    public long Skipped { get; init; }

    /// <summary>Ticks missed (passed while nobody led, or past their starting deadline).</summary>
    public long Missed { get; init; }

    /// <summary>Runs started by hand.</summary>
    public long Triggered { get; init; }

    /// <summary>Its recent history, oldest first; its jobs are listed by <c>GET /v1/jobs?schedule={id}</c>.</summary>
    public IReadOnlyList<ScheduleRun> Recent { get; init; } = [];

    /// <summary>Store revision this view was read (or written) at.</summary>
    public long Revision { get; init; }
}

/// <summary>One page of <c>GET /v1/schedules</c>.</summary>
/// <param name="Items">Schedules of this page, in id order.</param>
/// <param name="Cursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
/// <param name="Revision">Store revision the page was read at.</param>
public sealed record SchedulePage(IReadOnlyList<ScheduleView> Items, string? Cursor, long Revision);
