using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;

namespace ControlPlane.Director.Scheduling;

/// <summary>A schedule record as the leader follows it.</summary>
/// <param name="Key">Store key.</param>
/// <param name="Record">The parsed record.</param>
/// <param name="Version">Version for the conditional write that judges its ticks.</param>
/// <param name="Timetable">Its cron in its zone; null when the record's definition cannot be read (quarantined).</param>
internal sealed record ScheduleInfo(string Key, ScheduleRecord Record, long Version, CronTimetable? Timetable)
{
    /// <summary>The revision that created the record (a schedule deleted and written again is another record).</summary>
    public long CreateRevision { get; init; }
}

/// <summary>What judging a schedule's due ticks decided: its next record and the jobs to create or cancel with it,
/// all in one write.</summary>
/// <param name="Next">The schedule record with its ticks judged (<c>lastTick</c> advanced, counters, history).</param>
/// <param name="Created">The jobs its fired ticks create.</param>
/// <param name="Cancelled">Active runs that <see cref="ConcurrencyPolicy.Replace"/> cancels, with their next record.</param>
/// <param name="More">Due ticks were left for the next pass (a bound was reached).</param>
internal sealed record ScheduleFiring(ScheduleRecord Next, IReadOnlyList<JobRecord> Created, IReadOnlyList<(JobInfo Job, JobRecord Next)> Cancelled, bool More);

/// <summary>
/// The one owner of a schedule's ticks: which due ticks fire, which are skipped or missed, and how far
/// <c>lastTick</c> moves. A pure function of the record, the leader's clock, the start of the leader's term and the
/// schedule's active runs, so every rule is unit-tested on a fake clock.
/// </summary>
/// <remarks>
/// <para>Exactly once: a tick is due when it lies after both the record's <c>anchor</c> and its <c>lastTick</c> and
/// not after the leader's clock. The tick's job (its id derived from schedule and tick) is created in the same
/// fenced, version-conditioned write that moves <c>lastTick</c> past it, so either both land or neither: a deposed
/// leader's write is refused, a new leader resumes from <c>lastTick</c>, and a clock that jumps backwards finds
/// nothing due.</para>
/// <para>Catch-up: ticks before the term's start passed while nobody led; <see cref="CatchUpPolicy"/> says which of
/// them fire (none, the newest, the newest <c>maxCatchUp</c>); the rest are recorded as missed, never lost silently.
/// Ticks during the term always fire, except past <c>startingDeadlineSeconds</c>.</para>
/// <para>Cost per judged schedule: O(ticks judged) Cronos steps, at most <see cref="MaxTicksPerPass"/> in the term
/// plus <c>maxCatchUp</c> before it, and at most <see cref="MaxCountedMissed"/> steps to count missed ones.</para>
/// </remarks>
internal static class ScheduleTicks
{
    /// <summary>Ticks of the term judged per schedule per pass at most; more are judged in the next pass at once.</summary>
    public const int MaxTicksPerPass = 64;

    /// <summary>Jobs one schedule creates per write at most.</summary>
    public const int MaxFiresPerWrite = 16;

    /// <summary>Bytes of job records one schedule's write carries at most (one job always fits).</summary>
    public const int MaxWriteBytes = 256 * 1024;

    /// <summary>Active runs one write of a <c>replace</c> schedule cancels at most.</summary>
    public const int MaxCancelsPerWrite = 32;

    /// <summary>Missed ticks counted one by one at most; beyond, the count is a lower bound (and says so).</summary>
    public const int MaxCountedMissed = 1000;

    /// <summary>
    /// Judges the due ticks of <paramref name="schedule"/> at <paramref name="now"/>. Returns the write to make (null
    /// when nothing is due) and when the schedule is next due (null when never, e.g. paused).
    /// </summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="now">The leader's clock.</param>
    /// <param name="termStarted">When this leader's term started: earlier ticks passed while nobody led.</param>
    /// <param name="epoch">The leader's epoch, recorded with the ticks it judges.</param>
    /// <param name="active">The schedule's unfinished runs.</param>
    /// <param name="jobExists">Whether a job id is already taken (a tick whose job exists counts as fired).</param>
    public static (ScheduleFiring? Firing, DateTimeOffset? Due) Judge(
        ScheduleInfo schedule, DateTimeOffset now, DateTimeOffset termStarted, long epoch, IReadOnlyList<JobInfo> active, Func<string, bool> jobExists)
    {
        var record = schedule.Record;
        var timetable = schedule.Timetable;
        var spec = record.Spec;
        if (timetable is null || spec.Paused || spec.Job is null)
        {
            return (null, null);
        }

        var from = record.LastTick is { } last && last > record.Anchor ? last : record.Anchor;
        if (timetable.Next(from) is not { } first)
        {
            return (null, null); // the cron names no future instant (e.g. 30 February)
        }

        if (first > now)
        {
            return (null, first);
        }

        var (steps, truncated) = Steps(timetable, spec, from, first, now, termStarted);
        var firing = Decide(schedule, steps, now, epoch, active, jobExists, truncated);
        var judged = firing.Next.LastTick ?? from;
        return (firing, firing.More ? now : timetable.Next(judged));
    }

    /// <summary>The due ticks in order: missed ranges and ticks to fire.</summary>
    private static (List<Step> Steps, bool Truncated) Steps(
        CronTimetable timetable, ScheduleSpec spec, DateTimeOffset from, DateTimeOffset first, DateTimeOffset now, DateTimeOffset termStarted)
    {
        DateTimeOffset? cut = spec.StartingDeadlineSeconds is { } seconds ? now - TimeSpan.FromSeconds(seconds) : null;
        var steps = new List<Step>();
        var tick = TimeSpan.FromTicks(1);
        if (first < termStarted)
        {
            // Ticks that passed while nobody led: the catch-up policy picks the newest few; the older are missed.
            var lateEnd = termStarted - tick < now ? termStarted - tick : now;
            var keep = spec.CatchUp switch
            {
                CatchUpPolicy.Skip => 0,
                CatchUpPolicy.Latest => 1,
                _ => spec.MaxCatchUp ?? Limits.DefaultMaxCatchUp,
            };
            var selected = keep == 0 ? [] : timetable.Descending(lateEnd, from).TakeWhile(t => cut is null || t > cut).Take(keep).Reverse().ToList();
            var missedEnd = selected.Count > 0 ? selected[0] - tick : lateEnd;
            foreach (var newest in timetable.Descending(missedEnd, from).Take(1))
            {
                var counted = timetable.Ascending(from, missedEnd).Take(MaxCountedMissed + 1).Count();
                var why = keep == 0
                    ? "passed while no director led (catchUp: skip)"
                    : $"passed while no director led, older than the {keep} newest that catchUp: {Name(spec.CatchUp)} fires, or past startingDeadlineSeconds";
                steps.Add(new Step(newest, Missed: true, Math.Min(counted, MaxCountedMissed), counted > MaxCountedMissed, why));
            }

            steps.AddRange(selected.Select(t => new Step(t, Missed: false)));
        }

        // Ticks of this term: each fires, unless the leader only judges it past its starting deadline.
        var lower = termStarted > from ? termStarted - tick : from;
        var inTerm = timetable.Ascending(lower, now).Take(MaxTicksPerPass + 1).ToList();
        var truncated = inTerm.Count > MaxTicksPerPass;
        foreach (var t in inTerm.Take(MaxTicksPerPass))
        {
            if (cut is { } c && t <= c)
            {
                if (steps.Count > 0 && steps[^1] is { Missed: true } previous)
                {
                    steps[^1] = previous with { Tick = t, Count = previous.Count + 1 };
                }
                else
                {
                    steps.Add(new Step(t, Missed: true, 1, false, "not judged within startingDeadlineSeconds"));
                }
            }
            else
            {
                steps.Add(new Step(t, Missed: false));
            }
        }

        return (steps, truncated);
    }

    private static ScheduleFiring Decide(
        ScheduleInfo schedule, List<Step> steps, DateTimeOffset now, long epoch, IReadOnlyList<JobInfo> active, Func<string, bool> jobExists, bool truncated)
    {
        var record = schedule.Record;
        var spec = record.Spec;
        var job = spec.Job!;
        var jobBytes = Math.Max(1, ContractJson.Serialize(job).Length + 512);
        var budget = Math.Clamp(MaxWriteBytes / jobBytes, 1, MaxFiresPerWrite);
        var runs = new List<ScheduleRun>();
        var created = new List<JobRecord>();
        var cancelled = new List<(JobInfo, JobRecord)>();
        long fired = 0, skipped = 0, missed = 0;
        DateTimeOffset? judged = null;
        var more = truncated;
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Missed)
            {
                var detail = step.AtLeast ? $"at least {step.Count} ticks {step.Why}" : $"{step.Count} tick{(step.Count == 1 ? "" : "s")} {step.Why}";
                runs.Add(new ScheduleRun(step.Tick, TickOutcome.Missed, Count: step.Count, Detail: detail));
                missed += step.Count;
                judged = step.Tick;
                continue;
            }

            // A policy other than allow judges one fired tick per write: the next tick sees this one's run as active.
            if (created.Count >= budget || (created.Count > 0 && spec.Concurrency != ConcurrencyPolicy.Allow))
            {
                more = true;
                break;
            }

            if (spec.Concurrency == ConcurrencyPolicy.Forbid && active.Count > 0)
            {
                runs.Add(new ScheduleRun(step.Tick, TickOutcome.Skipped, Detail: $"run {active[0].Record.Id} was still {active[0].Record.State}"));
                skipped++;
                judged = step.Tick;
                continue;
            }

            var jobId = ScheduleIds.JobIdFor(record.Id, step.Tick);
            if (jobExists(jobId))
            {
                runs.Add(new ScheduleRun(step.Tick, TickOutcome.Fired, jobId, Detail: "its job already existed"));
                fired++;
                judged = step.Tick;
                continue;
            }

            if (spec.Concurrency == ConcurrencyPolicy.Replace)
            {
                var runsToCancel = active.Where(r => !r.Record.CancelRequested).ToList();
                foreach (var run in runsToCancel.Take(MaxCancelsPerWrite))
                {
                    cancelled.Add((run, Cancel(run, step.Tick, now)));
                }

                if (runsToCancel.Count > MaxCancelsPerWrite)
                {
                    // Many runs left from an earlier allow: a bounded batch is cancelled first, and the tick fires
                    // in a later write (it stays due).
                    more = true;
                    break;
                }
            }

            fired++;
            judged = step.Tick;
            created.Add(JobTransitions.Scheduled(jobId, job, record.Id, step.Tick, now));
            runs.Add(new ScheduleRun(step.Tick, TickOutcome.Fired, jobId));
        }

        var next = record with
        {
            LastTick = judged ?? record.LastTick,
            Epoch = epoch,
            Fired = record.Fired + fired,
            Skipped = record.Skipped + skipped,
            Missed = record.Missed + missed,
            Recent = record.WithRecent(runs),
        };
        return new ScheduleFiring(next, created, cancelled, more);
    }

    private static JobRecord Cancel(JobInfo run, DateTimeOffset tick, DateTimeOffset now) => run.Record.State == JobState.Pending
        ? JobTransitions.CancelledWhilePending(run.Record, now) with { Error = $"replaced by the run of tick {tick:O}" }
        : JobTransitions.CancelRequested(run.Record);

    private static string Name(CatchUpPolicy policy) => policy switch
    {
        CatchUpPolicy.Skip => "skip",
        CatchUpPolicy.Latest => "latest",
        _ => "all",
    };

    /// <summary>One due tick (or, when missed, the newest of a run of missed ticks).</summary>
    private sealed record Step(DateTimeOffset Tick, bool Missed, long Count = 1, bool AtLeast = false, string Why = "");
}
