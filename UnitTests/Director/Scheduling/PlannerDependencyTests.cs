using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;
using static ControlPlane.UnitTests.Director.Scheduling.PlannerFixture;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>Waiting jobs (issue 19): <c>runAt</c>/<c>delaySeconds</c> and <c>dependsOn</c> as the leader judges them.</summary>
public sealed class PlannerDependencyTests
{
    private readonly PlannerFixture _f = new();

    private static JobSpec After(params (JobInfo Job, DependencyCondition On)[] dependencies) => new()
    {
        Executor = "sleep",
        DependsOn = [.. dependencies.Select(d => new JobDependency { Job = d.Job.Record.Id, On = d.On })],
    };

    private JobInfo Finished(JobState state) => _f.Job(state: state, edit: r => r with { FinishedAt = _f.Now });

    private JobInfo Waiting(JobSpec spec, DateTimeOffset? notBefore = null) =>
        _f.Job(spec, JobState.Waiting, edit: r => r with { NotBefore = notBefore });

    [Fact]
    public void A_submission_with_a_time_or_dependencies_starts_Waiting_and_one_without_starts_Pending()
    {
        var now = T0;
        Assert.Equal(JobState.Pending, JobTransitions.Submitted("a", new JobSpec { Executor = "sleep" }, now, null).State);

        var delayed = JobTransitions.Submitted("b", new JobSpec { Executor = "sleep", DelaySeconds = 30 }, now, null);
        Assert.Equal((JobState.Waiting, now.AddSeconds(30)), (delayed.State, delayed.NotBefore));

        // A runAt already past on this director's clock still waits for the leader's clock to judge it.
        var past = JobTransitions.Submitted("c", new JobSpec { Executor = "sleep", RunAt = now.AddHours(-1) }, now, null);
        Assert.Equal((JobState.Waiting, now.AddHours(-1)), (past.State, past.NotBefore));

        var dependent = JobTransitions.Submitted("d", new JobSpec { Executor = "sleep", DependsOn = [new JobDependency { Job = "x" }] }, now, null);
        Assert.Equal((JobState.Waiting, (DateTimeOffset?)null), (dependent.State, dependent.NotBefore));
    }

    [Fact]
    public void A_job_waiting_for_an_unfinished_dependency_is_neither_written_nor_placed_even_with_room()
    {
        _f.Worker("w1", slots: 8);
        var upstream = _f.Job(); // Pending: placed, while its dependent waits
        var dependent = Waiting(After((upstream, DependencyCondition.Success)));

        var plan = _f.Plan();

        Assert.DoesNotContain(plan.Writes, w => w.JobId == dependent.Record.Id);
        Assert.Contains(AssignmentsCreated(plan), a => a.Record.JobId == upstream.Record.Id);
    }

    [Theory]
    [InlineData(JobState.Succeeded, DependencyCondition.Success, true)]
    [InlineData(JobState.Failed, DependencyCondition.Success, false)]
    [InlineData(JobState.Cancelled, DependencyCondition.Success, false)]
    [InlineData(JobState.Skipped, DependencyCondition.Success, false)]
    [InlineData(JobState.Failed, DependencyCondition.Failure, true)]
    [InlineData(JobState.Succeeded, DependencyCondition.Failure, false)]
    [InlineData(JobState.Skipped, DependencyCondition.Failure, false)]
    [InlineData(JobState.Succeeded, DependencyCondition.Completion, true)]
    [InlineData(JobState.Failed, DependencyCondition.Completion, true)]
    [InlineData(JobState.Cancelled, DependencyCondition.Completion, true)]
    [InlineData(JobState.Skipped, DependencyCondition.Completion, true)]
    public void A_final_dependency_releases_or_skips_its_dependent_by_the_condition(JobState upstreamState, DependencyCondition on, bool runs)
    {
        var upstream = Finished(upstreamState);
        var dependent = Waiting(After((upstream, on)));

        var plan = _f.Plan();

        var write = Assert.Single(plan.Writes, w => w.JobId == dependent.Record.Id);
        var written = JobWritten(plan, dependent.Record.Id);
        if (runs)
        {
            Assert.Equal(WriteKind.Release, write.Kind);
            Assert.Equal((JobState.Pending, (DateTimeOffset?)null), (written.State, written.NotBefore));
        }
        else
        {
            Assert.Equal(WriteKind.Skip, write.Kind);
            Assert.Equal(JobState.Skipped, written.State);
            Assert.Equal(_f.Now, written.FinishedAt);
            Assert.Contains($"dependency {upstream.Record.Id} ended {upstreamState}", written.Error, StringComparison.Ordinal);
        }

        // Released, it is placed in a later pass, never in the pass that releases it (written once per pass).
        Assert.Empty(AssignmentsCreated(plan));
    }

    [Fact]
    public void One_dependency_that_rules_the_job_out_skips_it_without_waiting_for_the_others()
    {
        var running = _f.Job(state: JobState.Pending);
        var failed = Finished(JobState.Failed);
        var dependent = Waiting(After((running, DependencyCondition.Success), (failed, DependencyCondition.Success)));

        var written = JobWritten(_f.Plan(), dependent.Record.Id);

        Assert.Equal(JobState.Skipped, written.State);
        Assert.Contains(failed.Record.Id, written.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dependency_that_no_longer_exists_skips_the_job_naming_it()
    {
        var dependent = Waiting(new JobSpec { Executor = "sleep", DependsOn = [new JobDependency { Job = JobIds.New() }] });

        var written = JobWritten(_f.Plan(), dependent.Record.Id);

        Assert.Equal(JobState.Skipped, written.State);
        Assert.Contains("no longer exists", written.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_at_is_a_deadline_on_the_leaders_clock_and_releases_the_job_when_it_comes()
    {
        var at = T0.AddSeconds(90);
        var job = Waiting(new JobSpec { Executor = "sleep" }, notBefore: at);

        var early = _f.Plan();
        Assert.Empty(early.Writes);
        Assert.Equal(at, early.NextDue);

        _f.Now = at;
        var due = _f.Plan();
        Assert.Equal(WriteKind.Release, Assert.Single(due.Writes).Kind);
        Assert.Equal(JobState.Pending, JobWritten(due, job.Record.Id).State);
    }

    [Fact]
    public void Dependencies_and_a_time_both_hold_the_job()
    {
        var upstream = Finished(JobState.Succeeded);
        Waiting(After((upstream, DependencyCondition.Success)), notBefore: T0.AddMinutes(5));

        var plan = _f.Plan();

        Assert.Empty(plan.Writes);
        Assert.Equal(T0.AddMinutes(5), plan.NextDue);
    }

    [Fact]
    public void A_cancel_request_on_a_waiting_job_cancels_it()
    {
        var upstream = _f.Job();
        var job = _f.Job(After((upstream, DependencyCondition.Success)), JobState.Waiting, edit: r => r with { CancelRequested = true });

        var written = JobWritten(_f.Plan(), job.Record.Id);

        Assert.Equal(JobState.Cancelled, written.State);
    }

    [Fact]
    public void When_a_dependency_ends_its_dependents_are_judged_and_a_skip_carries_on_down_the_chain()
    {
        var a = _f.Job(state: JobState.Running, workerId: "gone");
        var b = Waiting(After((a, DependencyCondition.Success)));
        var c = Waiting(After((b, DependencyCondition.Success)));
        var d = Waiting(After((b, DependencyCondition.Failure)));
        var state = _f.Build();
        var planner = new Planner(_f.Options);
        var now = T0;
        planner.PlanPass(state, _f.Epoch, now); // term start: everything judged once

        // Nothing changed: nothing is judged again, however many jobs wait.
        Assert.Equal(0, planner.PlanPass(state, _f.Epoch, now).Evaluated);

        var failed = Put(state, a, a.Record with { State = JobState.Failed, FinishedAt = now });
        var first = planner.PlanPass(state, _f.Epoch, now);
        var skippedB = JobWritten(first, b.Record.Id);
        Assert.Equal(JobState.Skipped, skippedB.State);
        Assert.DoesNotContain(first.Writes, w => w.JobId == c.Record.Id || w.JobId == d.Record.Id);

        // The skip lands (as the leader's own write or through its watch): B's dependents are judged in the next pass.
        Put(state, b, skippedB);
        var second = planner.PlanPass(state, _f.Epoch, now);
        Assert.Equal(JobState.Skipped, JobWritten(second, c.Record.Id).State);
        Assert.Equal(JobState.Skipped, JobWritten(second, d.Record.Id).State); // B was skipped, not failed
        Assert.True(failed.Version > a.Version);
    }

    [Fact]
    public void A_finished_job_is_kept_past_retention_while_a_job_waits_for_it()
    {
        var upstream = Finished(JobState.Succeeded);
        var other = _f.Job(state: JobState.Running, workerId: "gone");
        var dependent = Waiting(After((upstream, DependencyCondition.Success), (other, DependencyCondition.Completion)));
        _f.Now = T0 + _f.Options.Retention;
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        var held = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.DoesNotContain(held.Writes, w => w.Kind == WriteKind.Remove);

        Put(state, other, other.Record with { State = JobState.Failed, FinishedAt = _f.Now });
        var release = planner.PlanPass(state, _f.Epoch, _f.Now);
        var released = JobWritten(release, dependent.Record.Id);
        Assert.Equal(JobState.Pending, released.State);

        // Once the dependent no longer waits, the upstream's retention is judged again and it goes.
        Put(state, dependent, released);
        var removal = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Contains(removal.Writes, w => w.Kind == WriteKind.Remove && w.JobId == upstream.Record.Id);
    }

    [Fact]
    public void The_state_indexes_waiting_jobs_by_dependency_the_same_whatever_order_records_arrive_in()
    {
        var upstream = _f.Job();
        var dependent = Waiting(After((upstream, DependencyCondition.Success)));
        var forward = _f.Build();
        var backward = new LeaderState(NullLogger.Instance);
        foreach (var item in _f.Items.OrderByDescending(i => i.Key, StringComparer.Ordinal))
        {
            backward.Apply(new StoreChange(ChangeKind.Put, item.Key, item, item.ModRevision), T0);
        }

        Assert.True(forward.HasWaitingDependents(upstream.Record.Id));
        Assert.Empty(forward.Differences(backward, 10));
        Assert.False(forward.HasWaitingDependents(dependent.Record.Id));
    }

    /// <summary>Applies a new version of <paramref name="job"/>'s record to <paramref name="state"/>, as its watch would.</summary>
    private static JobInfo Put(LeaderState state, JobInfo job, JobRecord record)
    {
        var value = ContractJson.Serialize(record);
        var item = new StoreItem(job.Key, value, job.CreateRevision, job.CreateRevision + job.Version + 1000, job.Version + 1, 0);
        state.Apply(new StoreChange(ChangeKind.Put, job.Key, item, item.ModRevision), T0);
        return job with { Record = record, Version = item.Version };
    }
}

/// <summary>What Waiting jobs cost a pass, counted rather than timed (timing is in Bench/).</summary>
public sealed class WaitingPassCostTests
{
    private const int Upstreams = 10;
    private const int DependentsEach = 10_000;

    [Fact]
    public void A_hundred_thousand_waiting_jobs_cost_a_pass_nothing_until_their_dependency_ends()
    {
        var f = new PlannerFixture();
        f.Worker("w1", slots: 1);
        var upstreams = Enumerable.Range(0, Upstreams).Select(_ => f.Job(state: JobState.Running, workerId: "elsewhere")).ToList();
        foreach (var each in upstreams)
        {
            var spec = new JobSpec { Executor = "sleep", DependsOn = [new JobDependency { Job = each.Record.Id }] };
            for (var i = 0; i < DependentsEach; i++)
            {
                f.Job(spec, JobState.Waiting);
            }
        }

        var state = f.Build();
        var planner = new Planner(f.Options);
        var first = planner.PlanPass(state, f.Epoch, f.Now);
        Assert.True(first.Evaluated >= Upstreams * DependentsEach, $"the term's first pass judged {first.Evaluated}");
        Assert.Empty(first.Writes);

        // Nothing changes: nothing is looked at, whatever waits.
        Assert.Equal(0, planner.PlanPass(state, f.Epoch, f.Now).Evaluated);

        // A dependency's progress that does not end it (Running → Running, a heartbeat) wakes nobody.
        var upstream = upstreams[3];
        var revision = 10_000_000L;
        void Put(JobRecord record, long version)
        {
            var item = new StoreItem(upstream.Key, ContractJson.Serialize(record), upstream.CreateRevision, ++revision, version, 0);
            state.Apply(new StoreChange(ChangeKind.Put, upstream.Key, item, revision), f.Now);
        }

        Put(upstream.Record with { Output = "progress" }, upstream.Version + 1);
        Assert.Equal(1, planner.PlanPass(state, f.Epoch, f.Now).Evaluated);

        // It ends: its 10,000 dependents, and only they, are judged, and released at most MaxPlacementsPerPass a pass
        // (a pass of 100,000 writes would hold the loop for seconds), in passes that follow at once.
        Put(upstream.Record with { State = JobState.Succeeded, FinishedAt = f.Now }, upstream.Version + 2);
        var release = planner.PlanPass(state, f.Epoch, f.Now);
        Assert.Equal(1 + DependentsEach, release.Evaluated);
        Assert.Equal(f.Options.MaxPlacementsPerPass, release.Writes.Count(w => w.Kind == WriteKind.Release));
        Assert.Equal(f.Now, release.NextDue);
        var released = new HashSet<string>(StringComparer.Ordinal);
        void Commit(Plan plan)
        {
            // The store confirms the releases: each job update comes back as a change, as the leader's write-through does.
            foreach (var write in plan.Writes.Where(w => w.Kind == WriteKind.Release))
            {
                Assert.True(released.Add(write.JobId!), $"job {write.JobId} released twice");
                var operation = Assert.Single(write.Operations);
                var item = new StoreItem(operation.Key, operation.Value, state.Jobs[write.JobId!].CreateRevision, ++revision, (operation.ExpectedVersion ?? 0) + 1, 0);
                state.Apply(new StoreChange(ChangeKind.Put, operation.Key, item, revision), f.Now);
            }
        }

        Commit(release);
        for (var pass = 0; pass < DependentsEach && released.Count < DependentsEach; pass++)
        {
            var next = planner.PlanPass(state, f.Epoch, f.Now);
            Assert.InRange(next.Writes.Count(w => w.Kind == WriteKind.Release), 1, f.Options.MaxPlacementsPerPass);
            Commit(next);
        }

        Assert.Equal(DependentsEach, released.Count);
    }
}
