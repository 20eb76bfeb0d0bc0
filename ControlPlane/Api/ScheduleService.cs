using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Api;

/// <summary>How a schedule request ended.</summary>
internal enum ScheduleResult
{
    /// <summary>Done; the view is the schedule as written or read.</summary>
    Done,

    /// <summary>Created (or, with an idempotency key used before for the same definition, found).</summary>
    Created,

    /// <summary>A keyed creation found a schedule made with the key for another definition.</summary>
    Conflict,

    /// <summary>No such schedule.</summary>
    NotFound,
}

/// <summary>A schedule request's result.</summary>
internal sealed record ScheduleOutcome(ScheduleResult Result, ScheduleView? Schedule, JobView? Job = null, bool Replayed = false);

/// <summary>
/// The API side of schedules: creates, reads, changes and triggers the records at <c>schedules/&lt;id&gt;</c>. The
/// API owns a schedule's definition (spec, anchor, paused); the leader alone judges its ticks. Every change is a
/// read and a write conditioned on the version read, retried a bounded number of times when the leader (or
/// another client) changed the record in between, so neither side ever overwrites the other's part.
/// </summary>
internal sealed class ScheduleService(StoreConnection connection, TimeProvider time, ILogger<ScheduleService> logger)
{
    /// <summary>Default page size of a listing.</summary>
    public const int DefaultLimit = 100;

    /// <summary>Largest page size of a listing.</summary>
    public const int MaxLimit = 500;

    // Each retry follows a concurrent change (usually the leader recording a tick); a handful is plenty. The change and
    // delete loops are optimistic-concurrency loops (read, write conditioned on the version read), not backoffs, and
    // stay loops: each round re-reads, which also resolves a lost answer.
    private const int MaxAttempts = 8;

    // store.write.unknown: a keyed create whose answer was lost is repeated unchanged; it lands, or finds what the
    // first one wrote.
    private readonly Polly.ResiliencePipeline _repeat =
        StoreRetries.RepeatUnknownOutcome(time, MaxAttempts);

    /// <summary>
    /// Creates a schedule from a valid, normalized <paramref name="spec"/>. With <paramref name="idempotencyKey"/> its id
    /// is derived from the key, so a retry of a creation whose answer was lost finds the schedule instead of making a
    /// second one that would fire every tick again.
    /// </summary>
    public async Task<ScheduleOutcome> CreateAsync(ScheduleSpec spec, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var now = time.GetUtcNow();
        var id = idempotencyKey is null ? JobIds.New() : JobSubmission.Sha256Hex(System.Text.Encoding.UTF8.GetBytes("schedule/" + idempotencyKey))[..JobIds.Length];
        var record = new ScheduleRecord { Id = id, Spec = spec, CreatedAt = now, Anchor = now };
        var key = StoreLayout.Schedule(id);
        var create = new Transaction().Create(key, ContractJson.Serialize(record));
        // Not a retry of a failure: a round that finds the schedule deleted between the create and the read creates again.
        for (var round = 1; ; round++)
        {
            var result = idempotencyKey is null
                ? await store.CommitAsync(create, cancellationToken)
                : await _repeat.ExecuteAsync(async ct => await store.CommitAsync(create, ct), cancellationToken);
            if (result.Succeeded)
            {
                Log.ScheduleCreated(logger, id, spec.Cron, spec.TimeZone ?? "UTC", result.Revision);
                return new ScheduleOutcome(ScheduleResult.Created, View(record, result.Revision));
            }

            var existing = await store.GetAsync(key, cancellationToken);
            if (existing is null)
            {
                if (round >= MaxAttempts)
                {
                    throw new StoreException($"The schedule {key} keeps changing; try again.");
                }

                continue; // deleted in between: create it again
            }

            var earlier = ContractJson.Deserialize<ScheduleRecord>(existing.Value.Span);
            // A replay finds the same definition (paused or not since): a retry after a lost answer, not a conflict.
            return Same(earlier.Spec with { Paused = spec.Paused }, spec)
                ? new ScheduleOutcome(ScheduleResult.Created, View(earlier, existing.ModRevision), Replayed: true)
                : new ScheduleOutcome(ScheduleResult.Conflict, View(earlier, existing.ModRevision));
        }
    }

    /// <summary>Reads one schedule; <paramref name="minRevision"/> waits for a view at least that new.</summary>
    public async Task<ScheduleOutcome> GetAsync(string id, long? minRevision, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        if (minRevision is { } wanted)
        {
            await store.SyncAsync(wanted, cancellationToken);
        }

        var item = await store.GetAsync(StoreLayout.Schedule(id), cancellationToken);
        return item is null
            ? new ScheduleOutcome(ScheduleResult.NotFound, null)
            : new ScheduleOutcome(ScheduleResult.Done, View(ContractJson.Deserialize<ScheduleRecord>(item.Value.Span), item.ModRevision));
    }

    /// <summary>One page of schedules in id order, one store list per page.</summary>
    public async Task<SchedulePage> ListAsync(int limit, string? after, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var page = await store.ListAsync(StoreLayout.Schedules, new ListOptions(limit, after), cancellationToken);
        var items = new List<ScheduleView>(page.Items.Count);
        foreach (var item in page.Items)
        {
            try
            {
                items.Add(View(ContractJson.Deserialize<ScheduleRecord>(item.Value.Span), item.ModRevision));
            }
            catch (System.Text.Json.JsonException e)
            {
                Log.UnreadableRecord(logger, e, item.Key); // one bad record must not hide the others
            }
        }

        return new SchedulePage(items, page.Next, page.Revision);
    }

    /// <summary>Replaces the definition. Ticks already judged stay judged; a changed cron or zone counts only from
    /// now (its anchor moves), so the new cron never fires a tick from before the change.</summary>
    public Task<ScheduleOutcome> ReplaceAsync(string id, ScheduleSpec spec, CancellationToken cancellationToken) =>
        ChangeAsync(id, (record, now) => record with
        {
            Spec = spec,
            Anchor = record.Spec.Cron != spec.Cron || record.Spec.TimeZone != spec.TimeZone || (record.Spec.Paused && !spec.Paused) ? now : record.Anchor,
        }, cancellationToken);

    /// <summary>Pauses: no tick fires until resumed.</summary>
    public Task<ScheduleOutcome> PauseAsync(string id, CancellationToken cancellationToken) =>
        ChangeAsync(id, (record, _) => record.Spec.Paused ? record : record with { Spec = record.Spec with { Paused = true } }, cancellationToken);

    /// <summary>Resumes: ticks after now fire; the ticks it was paused for never do.</summary>
    public Task<ScheduleOutcome> ResumeAsync(string id, CancellationToken cancellationToken) =>
        ChangeAsync(id, (record, now) => record.Spec.Paused ? record with { Spec = record.Spec with { Paused = false }, Anchor = now } : record, cancellationToken);

    /// <summary>Deletes the schedule; its jobs stay (and run) as they are.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var key = StoreLayout.Schedule(id);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var item = await store.GetAsync(key, cancellationToken);
            if (item is null)
            {
                return false;
            }

            if ((await store.CommitAsync(new Transaction().Delete(key, item.Version), cancellationToken)).Succeeded)
            {
                Log.ScheduleDeleted(logger, id);
                return true;
            }
        }

        throw new StoreException($"The schedule {key} keeps changing; try again.");
    }

    /// <summary>
    /// One run now, outside the cron: the job (with <c>scheduleId</c>, and <c>scheduledFor</c> the time asked) and
    /// the schedule's history entry are written together. Not a tick: the cron's ticks are untouched, and
    /// <c>forbid</c> treats the run as active like any other.
    /// </summary>
    public async Task<ScheduleOutcome> TriggerAsync(string id, CancellationToken cancellationToken)
    {
        JobRecord? job = null;
        var outcome = await ChangeAsync(
            id,
            (record, now) =>
            {
                job = JobTransitions.Scheduled(JobIds.New(), record.Spec.Job!, id, now, now);
                return record with
                {
                    Triggered = record.Triggered + 1,
                    Recent = record.WithRecent([new ScheduleRun(now, TickOutcome.Triggered, job.Id)]),
                };
            },
            cancellationToken,
            () => job);
        if (outcome.Result == ScheduleResult.NotFound)
        {
            return outcome;
        }

        Log.ScheduleTriggered(logger, id, job!.Id);
        return outcome with { Result = ScheduleResult.Created, Job = JobViews.From(job, null, outcome.Schedule!.Revision) };
    }

    /// <summary>
    /// Reads the schedule, applies <paramref name="change"/> (which returns the record itself when there is nothing to
    /// change) and writes it conditioned on the version read, together with the job <paramref name="created"/> names,
    /// if any; a concurrent change (usually the leader recording a tick) makes it read and decide again, a bounded
    /// number of times.
    /// </summary>
    private async Task<ScheduleOutcome> ChangeAsync(
        string id, Func<ScheduleRecord, DateTimeOffset, ScheduleRecord> change, CancellationToken cancellationToken, Func<JobRecord?>? created = null)
    {
        var store = await connection.GetAsync(cancellationToken);
        var key = StoreLayout.Schedule(id);
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var item = await store.GetAsync(key, cancellationToken);
            if (item is null)
            {
                return new ScheduleOutcome(ScheduleResult.NotFound, null);
            }

            var record = ContractJson.Deserialize<ScheduleRecord>(item.Value.Span);
            var next = change(record, time.GetUtcNow());
            if (ReferenceEquals(next, record))
            {
                return new ScheduleOutcome(ScheduleResult.Done, View(record, item.ModRevision)); // nothing to change
            }

            var transaction = new Transaction().Update(key, ContractJson.Serialize(next), item.Version);
            var job = created?.Invoke();
            if (job is not null)
            {
                transaction.Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job));
            }

            var result = await store.CommitAsync(transaction, cancellationToken);
            if (result.Succeeded)
            {
                if (job is null)
                {
                    Log.ScheduleChanged(logger, id, next.Spec.Paused);
                }

                return new ScheduleOutcome(ScheduleResult.Done, View(next, result.Revision));
            }
        }

        throw new StoreException($"The schedule {key} keeps changing; try again.");
    }

    /// <summary>Two definitions that would store the same bytes.</summary>
    private static bool Same(ScheduleSpec a, ScheduleSpec b) =>
        ContractJson.Serialize(a).AsSpan().SequenceEqual(ContractJson.Serialize(b));

    /// <summary>The view of <paramref name="record"/>: its next tick computed from its cron (null while paused).</summary>
    public static ScheduleView View(ScheduleRecord record, long revision)
    {
        DateTimeOffset? next = null;
        if (!record.Spec.Paused && CronTimetable.TryCreate(record.Spec, []) is { } timetable)
        {
            var from = record.LastTick is { } last && last > record.Anchor ? last : record.Anchor;
            next = timetable.Next(from);
        }

        return new ScheduleView
        {
            Id = record.Id,
            Spec = record.Spec,
            CreatedAt = record.CreatedAt,
            Anchor = record.Anchor,
            LastTick = record.LastTick,
            NextTick = next,
            Fired = record.Fired,
            Skipped = record.Skipped,
            Missed = record.Missed,
            Triggered = record.Triggered,
            Recent = record.Recent,
            Revision = revision,
        };
    }
}
