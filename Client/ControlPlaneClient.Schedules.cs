using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;

namespace ControlPlane.Client;

/// <summary>The <c>/v1/schedules</c> calls (docs/schedules.md).</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary><c>POST /v1/schedules</c>: creates a schedule. With <paramref name="idempotencyKey"/> a repeat returns
    /// the same schedule; without one the call is never sent twice once a director may have received it.</summary>
    /// <exception cref="ControlPlaneValidationException">The definition is invalid (e.g. <c>cron</c>); each field is named.</exception>
    /// <exception cref="ControlPlaneConflictException">The key was already used for a different definition.</exception>
    public Task<ScheduleView> CreateScheduleAsync(ScheduleSpec spec, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.CreateSchedule(spec, idempotencyKey), cancellationToken);

    /// <summary><c>GET /v1/schedules</c>, one page from <paramref name="cursor"/>; most callers want <see cref="ListSchedulesAsync"/>.</summary>
    public Task<SchedulePage> GetSchedulePageAsync(int? pageSize = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetSchedulePage(pageSize, cursor), cancellationToken);

    /// <summary>Every schedule in id order, a page at a time as the enumeration goes on.</summary>
    public IAsyncEnumerable<ScheduleView> ListSchedulesAsync(int? pageSize = null, CancellationToken cancellationToken = default) =>
        PagesAsync((cursor, ct) => GetSchedulePageAsync(pageSize, cursor, ct), page => (page.Items, page.Cursor), cancellationToken);

    /// <summary><c>GET /v1/schedules/{id}</c>: definition, last and next tick, counters and recent runs.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such schedule.</exception>
    public Task<ScheduleView> GetScheduleAsync(string id, long? minRevision = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetSchedule(id, minRevision), cancellationToken);

    /// <summary><c>PUT /v1/schedules/{id}</c>: replaces the definition; ticks already judged stay judged, a new cron counts
    /// from now. Repeatable (the same definition twice is one change).</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such schedule.</exception>
    /// <exception cref="ControlPlaneValidationException">The definition is invalid.</exception>
    public Task<ScheduleView> ReplaceScheduleAsync(string id, ScheduleSpec spec, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.ReplaceSchedule(id, spec), cancellationToken);

    /// <summary><c>POST /v1/schedules/{id}/pause</c>: no tick fires until it is resumed. Repeatable.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such schedule.</exception>
    public Task<ScheduleView> PauseScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.PauseSchedule(id), cancellationToken);

    /// <summary><c>POST /v1/schedules/{id}/resume</c>: the ticks it was paused for never fire. Repeatable.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such schedule.</exception>
    public Task<ScheduleView> ResumeScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.ResumeSchedule(id), cancellationToken);

    /// <summary>
    /// <c>POST /v1/schedules/{id}/trigger</c>: runs the schedule's job once now, outside the cron, and returns the job.
    /// Not repeatable: each trigger a director receives creates a job, so after a failure a director may have seen, the
    /// call is not sent again (look at the schedule's recent runs before triggering again).
    /// </summary>
    /// <exception cref="ControlPlaneNotFoundException">No such schedule.</exception>
    /// <exception cref="ControlPlaneTooManyPendingException">A pending-job limit refused the run; nothing was created.</exception>
    public Task<JobView> TriggerScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.TriggerSchedule(id), cancellationToken);

    /// <summary><c>DELETE /v1/schedules/{id}</c>: deletes the schedule; the jobs it created stay. Repeatable: a retry
    /// after a lost answer finds it gone (404).</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such schedule.</exception>
    public async Task DeleteScheduleAsync(string id, CancellationToken cancellationToken = default) =>
        await SendAsync(ControlPlaneRequest.DeleteSchedule(id), cancellationToken).ConfigureAwait(false);
}
