using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Director.Scheduling;
using CsCheck;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>
/// The tick rules of <see cref="ScheduleTicks"/> on a fake clock: each write it plans is applied as the store would
/// (the record's version moves on), and the jobs it creates are collected, so "exactly once per tick" is checked
/// on what would be committed.
/// </summary>
public sealed class ScheduleTicksTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_tick_fires_exactly_once_whatever_the_passes_failovers_and_clock_jumps()
    {
        // A random history of passes: the clock moves on (by up to 40 s), a new term starts (failover), or the clock
        // jumps back. With catchUp all and room to catch up, every tick in the window fires once and none twice.
        var step = Gen.Int[0, 9].Select(Gen.Int[0, 40_000], (kind, ms) => (kind, ms));
        step.Array[1, 60].Sample(steps =>
        {
            var sim = new Simulation(Spec("* * * * * *", CatchUpPolicy.All, maxCatchUp: 10_000), T0);
            var highest = T0;
            foreach (var (kind, ms) in steps)
            {
                switch (kind)
                {
                    case 0:
                        sim.Now -= TimeSpan.FromMilliseconds(ms % 5000); // the leader's clock jumps back
                        break;
                    case 1:
                        sim.Now += TimeSpan.FromMilliseconds(ms);
                        sim.TermStarted = sim.Now; // a new leader
                        break;
                    default:
                        sim.Now += TimeSpan.FromMilliseconds(ms);
                        break;
                }

                highest = sim.Now > highest ? sim.Now : highest;
                sim.Pass();
            }

            sim.Now = highest;
            sim.RunUntilIdle();
            var expected = Enumerable.Range(1, (int)(highest - T0).TotalSeconds).Select(s => T0.AddSeconds(s)).ToList();
            Assert.Equal(expected, sim.FiredTicks);
            Assert.Equal(expected.Count, sim.Created.Select(j => j.Id).Distinct().Count());
            Assert.Equal(expected.Count, sim.Record.Fired);
        }, iter: 200);
    }

    [Fact]
    public void A_clock_that_jumps_back_never_fires_a_judged_tick_again()
    {
        var sim = new Simulation(Spec("*/10 * * * * *"), T0);
        sim.Now = T0.AddSeconds(25);
        sim.RunUntilIdle();
        Assert.Equal([T0.AddSeconds(10), T0.AddSeconds(20)], sim.FiredTicks);

        sim.Now = T0.AddSeconds(5); // back before both ticks
        sim.RunUntilIdle();
        sim.Now = T0.AddSeconds(21);
        sim.RunUntilIdle();
        Assert.Equal([T0.AddSeconds(10), T0.AddSeconds(20)], sim.FiredTicks);
        Assert.Equal(T0.AddSeconds(20), sim.Record.LastTick);
    }

    [Theory]
    [InlineData(CatchUpPolicy.Skip, 0)]
    [InlineData(CatchUpPolicy.Latest, 1)]
    [InlineData(CatchUpPolicy.All, 5)]
    public void Ticks_that_passed_while_nobody_led_follow_the_catch_up_policy(CatchUpPolicy policy, int fired)
    {
        // Last judged 1,000 s before this term started: 1,000 ticks passed while nobody led.
        var sim = new Simulation(Spec("* * * * * *", policy, maxCatchUp: policy == CatchUpPolicy.All ? 5 : null), T0)
        {
            TermStarted = T0.AddSeconds(1000.5),
            Now = T0.AddSeconds(1000.5),
        };
        sim.RunUntilIdle();

        var newest = Enumerable.Range(1000 - fired + 1, fired).Select(s => T0.AddSeconds(s)).ToList();
        Assert.Equal(newest, sim.FiredTicks);
        Assert.Equal(1000 - fired, sim.Record.Missed);
        var missed = Assert.Single(sim.Record.Recent, r => r.Outcome == TickOutcome.Missed);
        Assert.Equal(1000 - fired, missed.Count);
        Assert.Equal(T0.AddSeconds(1000), sim.Record.LastTick);

        // Ticks of the term itself all fire, whatever the policy.
        sim.Now = T0.AddSeconds(1003.2);
        sim.RunUntilIdle();
        Assert.Equal(newest.Concat([T0.AddSeconds(1001), T0.AddSeconds(1002), T0.AddSeconds(1003)]), sim.FiredTicks);
    }

    [Fact]
    public void Catch_up_is_bounded_by_max_catch_up_and_counts_a_huge_backlog_as_a_lower_bound()
    {
        // A day of one-second ticks missed: five fire; the rest are counted up to the bound and said to be more.
        var sim = new Simulation(Spec("* * * * * *", CatchUpPolicy.All, maxCatchUp: 5), T0)
        {
            TermStarted = T0.AddDays(1).AddMilliseconds(500),
            Now = T0.AddDays(1).AddMilliseconds(500),
        };
        var passes = sim.RunUntilIdle();

        Assert.Equal(5, sim.FiredTicks.Count);
        Assert.Equal(T0.AddDays(1), sim.FiredTicks[^1]);
        Assert.Equal(1, passes);
        var missed = Assert.Single(sim.Record.Recent, r => r.Outcome == TickOutcome.Missed);
        Assert.StartsWith($"at least {ScheduleTicks.MaxCountedMissed} ticks", missed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tick_judged_past_its_starting_deadline_is_missed()
    {
        var sim = new Simulation(Spec("*/10 * * * * *") with { StartingDeadlineSeconds = 5 }, T0);
        sim.Now = T0.AddSeconds(17); // tick 10 is 7 s late: missed; nothing else due
        sim.RunUntilIdle();
        Assert.Empty(sim.FiredTicks);
        Assert.Equal(1, sim.Record.Missed);

        sim.Now = T0.AddSeconds(23); // tick 20 is 3 s late: fires
        sim.RunUntilIdle();
        Assert.Equal([T0.AddSeconds(20)], sim.FiredTicks);
    }

    [Fact]
    public void Forbid_skips_a_tick_while_a_run_is_active_and_records_it()
    {
        var sim = new Simulation(Spec("*/10 * * * * *") with { Concurrency = ConcurrencyPolicy.Forbid }, T0) { KeepActive = true };
        sim.Now = T0.AddSeconds(10);
        sim.RunUntilIdle();
        sim.Now = T0.AddSeconds(20);
        sim.RunUntilIdle();

        Assert.Equal([T0.AddSeconds(10)], sim.FiredTicks);
        Assert.Equal(1, sim.Record.Skipped);
        var skipped = Assert.Single(sim.Record.Recent, r => r.Outcome == TickOutcome.Skipped);
        Assert.Equal(T0.AddSeconds(20), skipped.Tick);
        Assert.Contains(sim.Created[0].Id, skipped.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Replace_cancels_the_active_run_in_the_write_that_fires_the_next()
    {
        var sim = new Simulation(Spec("*/10 * * * * *") with { Concurrency = ConcurrencyPolicy.Replace }, T0) { KeepActive = true };
        sim.Now = T0.AddSeconds(10);
        sim.RunUntilIdle();
        sim.Now = T0.AddSeconds(20);
        var firing = sim.Pass()!;

        var (job, next) = Assert.Single(firing.Cancelled);
        Assert.Equal(sim.Created[0].Id, job.Record.Id);
        Assert.Equal(JobState.Cancelled, next.State); // it was Pending: cancelled at once
        Assert.Equal([T0.AddSeconds(10), T0.AddSeconds(20)], sim.FiredTicks);
    }

    [Fact]
    public void A_paused_schedule_is_never_due_and_ticks_before_the_anchor_never_fire()
    {
        var paused = new Simulation(Spec("* * * * * *") with { Paused = true }, T0) { Now = T0.AddMinutes(5) };
        Assert.Null(paused.Pass());
        Assert.Null(paused.Due);

        // Resumed at T0 + 5 min (the anchor moves): the five paused minutes never fire.
        var resumed = new Simulation(Spec("* * * * * *"), T0.AddMinutes(5)) { Now = T0.AddMinutes(5).AddSeconds(2.5) };
        resumed.RunUntilIdle();
        Assert.Equal([T0.AddMinutes(5).AddSeconds(1), T0.AddMinutes(5).AddSeconds(2)], resumed.FiredTicks);
    }

    [Fact]
    public void A_tick_whose_job_already_exists_counts_as_fired_without_a_second_create()
    {
        var sim = new Simulation(Spec("*/10 * * * * *"), T0) { Now = T0.AddSeconds(10) };
        sim.Existing.Add(ScheduleIds.JobIdFor(sim.Record.Id, T0.AddSeconds(10)));
        var firing = sim.Pass()!;
        Assert.Empty(firing.Created);
        Assert.Equal(T0.AddSeconds(10), firing.Next.LastTick);
        Assert.Equal(1, firing.Next.Fired);
    }

    [Fact]
    public void Daylight_saving_gaps_and_overlaps_fire_each_daily_tick_once()
    {
        // Europe/Berlin: 2026-03-29 02:00 → 03:00 (02:30 does not exist), 2026-10-25 03:00 → 02:00 (02:30 twice).
        foreach (var (from, to) in new[]
                 {
                     (new DateTimeOffset(2026, 3, 27, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)),
                     (new DateTimeOffset(2026, 10, 23, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 10, 28, 0, 0, 0, TimeSpan.Zero)),
                 })
        {
            var sim = new Simulation(Spec("30 2 * * *") with { TimeZone = "Europe/Berlin" }, from);
            for (sim.Now = from; sim.Now <= to; sim.Now += TimeSpan.FromMinutes(7))
            {
                sim.RunUntilIdle();
            }

            var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
            var days = sim.FiredTicks.Select(t => TimeZoneInfo.ConvertTime(t, zone).Date).ToList();
            Assert.Equal(5, sim.FiredTicks.Count);
            Assert.Equal(days.Distinct().Count(), days.Count); // one per local day, the gap and overlap days included
        }
    }

    [Fact]
    public void An_interval_cron_fires_every_distinct_instant_of_an_overlap_once()
    {
        // Every 30 minutes through the night the clocks go back: 02:00 and 02:30 exist twice in local time, and each
        // of the four instants fires once (distinct instants, never the same one twice).
        var from = new DateTimeOffset(2026, 10, 24, 23, 0, 0, TimeSpan.Zero); // 01:00 CEST
        var sim = new Simulation(Spec("*/30 * * * *") with { TimeZone = "Europe/Berlin" }, from) { Now = from.AddHours(3) };
        sim.RunUntilIdle();
        Assert.Equal(6, sim.FiredTicks.Count); // 01:30, 02:00, 02:30 (CEST), 02:00, 02:30, 03:00 (CET)
        Assert.Equal(sim.FiredTicks.Distinct().Count(), sim.FiredTicks.Count);
    }

    private static ScheduleSpec Spec(string cron, CatchUpPolicy catchUp = CatchUpPolicy.Latest, int? maxCatchUp = null) => new()
    {
        Cron = cron,
        Job = new JobSpec { Executor = "echo" },
        CatchUp = catchUp,
        MaxCatchUp = maxCatchUp,
    };

    /// <summary>One schedule judged pass after pass, its writes applied as the store would.</summary>
    private sealed class Simulation
    {
        private long _version = 1;

        public Simulation(ScheduleSpec spec, DateTimeOffset anchor)
        {
            Record = new ScheduleRecord { Id = JobIds.New(), Spec = spec, CreatedAt = anchor, Anchor = anchor };
            Now = anchor;
        }

        public ScheduleRecord Record { get; private set; }

        public DateTimeOffset Now { get; set; }

        public DateTimeOffset TermStarted { get; set; } = DateTimeOffset.MinValue;

        /// <summary>Created runs stay active (unfinished) instead of finishing at once.</summary>
        public bool KeepActive { get; init; }

        public DateTimeOffset? Due { get; private set; }

        public List<JobRecord> Created { get; } = [];

        public HashSet<string> Existing { get; } = new(StringComparer.Ordinal);

        public List<DateTimeOffset> FiredTicks => [.. Created.Select(j => j.ScheduledFor!.Value)];

        private List<JobInfo> Active { get; } = [];

        public ScheduleFiring? Pass()
        {
            var timetable = CronTimetable.TryCreate(Record.Spec, []);
            Assert.NotNull(timetable);
            var info = new ScheduleInfo(StoreLayout.Schedule(Record.Id), Record, _version, timetable);
            var (firing, due) = ScheduleTicks.Judge(info, Now, TermStarted, 7, Active, id => Existing.Contains(id) || Created.Any(j => j.Id == id));
            Due = due;
            if (firing is null)
            {
                return null;
            }

            Assert.True(firing.Next.LastTick >= Record.LastTick || Record.LastTick is null, "lastTick never moves back");
            Record = firing.Next;
            _version++;
            foreach (var (job, _) in firing.Cancelled)
            {
                Active.Remove(job);
            }

            foreach (var job in firing.Created)
            {
                Assert.DoesNotContain(Created, j => j.Id == job.Id);
                Assert.Equal(ScheduleIds.JobIdFor(Record.Id, job.ScheduledFor!.Value), job.Id);
                Created.Add(job);
                if (KeepActive)
                {
                    Active.Add(new JobInfo(StoreLayout.Job(job.Id), job, 1, Created.Count, 100));
                }
            }

            return firing;
        }

        /// <summary>Passes until nothing more is due now; returns how many wrote.</summary>
        public int RunUntilIdle()
        {
            var writes = 0;
            for (var i = 0; i < 10_000; i++)
            {
                if (Pass() is null)
                {
                    return writes;
                }

                writes++;
                if (Due is not { } due || due > Now)
                {
                    return writes;
                }
            }

            throw new InvalidOperationException("The schedule stayed due after 10,000 passes.");
        }
    }
}
