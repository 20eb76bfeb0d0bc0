using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using static ControlPlane.UnitTests.Director.Scheduling.PlannerFixture;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>Failure detection (docs/operations.md, "Failure detection"): the phi accrual detector on a fake clock, and the
/// planner's suspicion rules: beats overdue, assignments left unstarted, probes, and what a suspect worker loses.</summary>
public sealed class FailureDetectionTests
{
    private static readonly string[] BeatFeatures = [Protocol.Features.WorkerHeartbeat, Protocol.Features.Cancel];
    private readonly PlannerFixture _f = new();

    [Fact]
    public void Phi_stays_low_while_beats_come_on_time_and_grows_with_silence()
    {
        var clock = new ManualTimeProvider(T0);
        var phi = new PhiAccrual(TimeSpan.FromSeconds(5), window: 32);
        for (var i = 0; i < 20; i++)
        {
            phi.Beat(clock.GetUtcNow());
            clock.Advance(TimeSpan.FromSeconds(5));
        }

        // 5 s after the last beat: on time, about even odds that the next one is still to come.
        Assert.InRange(phi.Phi(clock.GetUtcNow()), 0.1, 0.5);
        clock.Advance(TimeSpan.FromSeconds(5));
        var ten = phi.Phi(clock.GetUtcNow());
        clock.Advance(TimeSpan.FromSeconds(5));
        var fifteen = phi.Phi(clock.GetUtcNow());
        Assert.True(ten < 8 && fifteen > 8, $"phi {ten} at 10 s, {fifteen} at 15 s");

        // SuspectAfter is the inverse: phi reaches the threshold exactly there.
        var after = phi.SuspectAfter(8);
        Assert.InRange(after.TotalSeconds, 10, 15);
        Assert.Equal(8, phi.Phi(phi.Last!.Value + after), 2);
        Assert.True(phi.Phi(phi.Last!.Value + after - TimeSpan.FromMilliseconds(50)) < 8);
    }

    [Fact]
    public void Phi_adapts_to_irregular_beats_and_forgets_them_after_its_window()
    {
        var clock = new ManualTimeProvider(T0);
        var regular = new PhiAccrual(TimeSpan.FromSeconds(1), window: 8);
        var irregular = new PhiAccrual(TimeSpan.FromSeconds(1), window: 8);
        for (var i = 0; i < 8; i++)
        {
            regular.Beat(T0 + TimeSpan.FromSeconds(i));
            irregular.Beat(clock.GetUtcNow());
            clock.Advance(TimeSpan.FromSeconds(i % 2 == 0 ? 0.2 : 3));
        }

        Assert.True(irregular.SuspectAfter(8) > regular.SuspectAfter(8) * 1.5, $"{irregular.SuspectAfter(8)} vs {regular.SuspectAfter(8)}");

        // Nine beats a second apart later the window holds only regular gaps: the irregular past is forgotten.
        for (var i = 0; i < 9; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            irregular.Beat(clock.GetUtcNow());
        }

        Assert.Equal(8, irregular.Samples);
        Assert.Equal(regular.SuspectAfter(8).TotalSeconds, irregular.SuspectAfter(8).TotalSeconds, 3);
    }

    [Fact]
    public void Phi_never_expects_beats_faster_than_advertised()
    {
        // A start or finish rewrites the registration within a second: such extra writes must not make an ordinary
        // 5 s beat look late.
        var phi = new PhiAccrual(TimeSpan.FromSeconds(5), window: 32);
        for (var i = 0; i < 30; i++)
        {
            phi.Beat(T0 + TimeSpan.FromSeconds(i));
        }

        Assert.True(phi.SuspectAfter(8) >= TimeSpan.FromSeconds(10), $"{phi.SuspectAfter(8)}");
        Assert.True(phi.Phi(phi.Last!.Value + TimeSpan.FromSeconds(5)) < 1);
    }

    [Fact]
    public void A_worker_whose_beats_stop_is_suspect_with_its_level_and_clears_when_it_beats_again()
    {
        var worker = _f.Worker("w1", features: BeatFeatures, heartbeatSeconds: 1);
        var state = _f.Build();
        var planner = new Planner(_f.Options);
        for (var i = 1; i <= 10; i++)
        {
            Beat(state, worker, T0 + TimeSpan.FromSeconds(i));
        }

        var last = T0 + TimeSpan.FromSeconds(10);
        Assert.DoesNotContain(planner.PlanPass(state, _f.Epoch, last + TimeSpan.FromSeconds(1)).Writes, w => w.Kind == WriteKind.Suspect);

        // The pass sets the worker's deadline where phi crosses the threshold: the loop wakes then, not before.
        var due = state.Deadlines.Next!.Value;
        Assert.InRange((due - last).TotalSeconds, 2, 3);
        var plan = planner.PlanPass(state, _f.Epoch, due);
        var mark = Assert.Single(plan.Writes, w => w.Kind == WriteKind.Suspect);
        var record = ContractJson.Deserialize<SuspectRecord>(Operations(plan).Single(o => o.Key == StoreLayout.Suspect("w1")).Value.Span);
        Assert.Equal(SuspectKinds.Beats, record.Kind);
        Assert.True(record.Level >= _f.Options.SuspectPhi, $"level {record.Level}");
        Assert.Contains("no beat for", record.Reason, StringComparison.Ordinal);

        ApplyMarker(state, "w1", record, due);
        Beat(state, worker, due + TimeSpan.FromSeconds(1));
        var cleared = planner.PlanPass(state, _f.Epoch, due + TimeSpan.FromSeconds(1));
        Assert.Contains(Operations(cleared), o => o.Key == StoreLayout.Suspect("w1") && o.Kind == OperationKind.Delete);
    }

    [Fact]
    public void A_worker_that_leaves_an_assignment_unstarted_is_suspect_within_three_intervals_and_the_job_runs_elsewhere_at_no_attempt()
    {
        var gray = _f.Worker("gray", features: BeatFeatures, heartbeatSeconds: 1);
        var (job, assignment) = _f.Running(gray, state: AttemptState.Assigned, firstSeen: T0);
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        // The gray worker keeps beating; the assignment stays Assigned.
        Beat(state, gray, T0 + TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(planner.PlanPass(state, _f.Epoch, T0 + TimeSpan.FromSeconds(1.5)).Writes, w => w.Kind == WriteKind.Suspect);
        Beat(state, gray, T0 + TimeSpan.FromSeconds(2));
        var at = T0 + TimeSpan.FromSeconds(_f.Options.UnstartedAfterHeartbeats);
        var plan = planner.PlanPass(state, _f.Epoch, at);
        var record = ContractJson.Deserialize<SuspectRecord>(Operations(plan).Single(o => o.Key == StoreLayout.Suspect("gray")).Value.Span);
        Assert.Equal(SuspectKinds.Unstarted, record.Kind);
        Assert.True(at - T0 < TimeSpan.FromSeconds(3));

        // Once the mark is seen, the unstarted assignment is taken back (it is old enough), as an interruption.
        ApplyMarker(state, "gray", record, at);
        var healthy = Register(state, _f, "healthy", at);
        var takeBack = planner.PlanPass(state, _f.Epoch, at);
        var write = Assert.Single(takeBack.Writes, w => w.Kind == WriteKind.TakeBack);
        Assert.Contains(Operations(takeBack), o => o.Kind == OperationKind.Delete && o.Key == assignment.Key && o.ExpectedVersion == assignment.Version);
        var requeued = JobWritten(takeBack, job.Record.Id);
        Assert.Equal((JobState.Pending, 1, 1), (requeued.State, requeued.Interruptions, requeued.Attempt - requeued.Interruptions));
        Assert.Contains("suspect", write.Detail + requeued.Error, StringComparison.Ordinal);

        // A new job goes to the healthy worker, never to the suspect one.
        var next = _f.Job();
        state.Apply(Put(_f, next.Key, ContractJson.Serialize(next.Record)), at);
        var placed = planner.PlanPass(state, _f.Epoch, at + TimeSpan.FromMilliseconds(10));
        Assert.All(AssignmentsCreated(placed), a => Assert.StartsWith(StoreLayout.WorkerAssignments(healthy), a.Key, StringComparison.Ordinal));
        Assert.NotEmpty(AssignmentsCreated(placed));
    }

    [Fact]
    public void An_unstarted_suspect_gets_one_probe_after_the_interval_and_clears_when_it_starts_it()
    {
        var gray = _f.Worker("gray", slots: 4, features: BeatFeatures, heartbeatSeconds: 1, suspect: true, suspectKind: SuspectKinds.Unstarted);
        for (var i = 0; i < 3; i++)
        {
            _f.Job();
        }

        var state = _f.Build();
        var planner = new Planner(_f.Options);
        var before = T0 + _f.Options.SuspectProbeInterval - TimeSpan.FromSeconds(1);
        Beat(state, gray, before);
        Assert.Empty(AssignmentsCreated(planner.PlanPass(state, _f.Epoch, before)));

        // The probe: one assignment, although three jobs wait and the worker has four slots.
        var at = T0 + _f.Options.SuspectProbeInterval;
        Beat(state, gray, at);
        var probe = planner.PlanPass(state, _f.Epoch, at);
        var (key, record) = Assert.Single(AssignmentsCreated(probe));
        Assert.StartsWith(StoreLayout.WorkerAssignments("gray"), key, StringComparison.Ordinal);
        Assert.Equal(1, state.WorkerStateCounts[(int)WorkerState.Suspect]);

        // Nothing more while the probe waits; once it is seen Running, the mark goes.
        var item = Put(_f, key, ContractJson.Serialize(record));
        state.Apply(item, at);
        Assert.Empty(AssignmentsCreated(planner.PlanPass(state, _f.Epoch, at + TimeSpan.FromMilliseconds(100))));
        state.Apply(Put(_f, key, ContractJson.Serialize(record with { State = AttemptState.Running })), at + TimeSpan.FromMilliseconds(200));
        var cleared = planner.PlanPass(state, _f.Epoch, at + TimeSpan.FromMilliseconds(200));
        var clear = Assert.Single(cleared.Writes, w => w.Kind == WriteKind.Suspect);
        Assert.Contains("started an attempt again", clear.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_probe_left_unstarted_is_taken_back_and_the_next_waits_another_interval()
    {
        var gray = _f.Worker("gray", features: BeatFeatures, heartbeatSeconds: 1, suspect: true, suspectKind: SuspectKinds.Unstarted);
        var probeAt = T0 + _f.Options.SuspectProbeInterval;
        var (job, _) = _f.Running(gray, state: AttemptState.Assigned, firstSeen: probeAt);
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        var failedAt = probeAt + TimeSpan.FromSeconds(_f.Options.UnstartedAfterHeartbeats);
        Beat(state, gray, failedAt);
        var plan = planner.PlanPass(state, _f.Epoch, failedAt);
        Assert.Equal(JobState.Pending, JobWritten(plan, job.Record.Id).State);
        Assert.DoesNotContain(plan.Writes, w => w.Kind == WriteKind.Suspect); // still suspect: it started nothing
        Assert.Equal(state.Health["gray"].ProbeFailed, failedAt);
    }

    [Fact]
    public void A_worker_of_an_unsupported_protocol_is_counted_as_such_and_gets_nothing()
    {
        var old = _f.Worker("old");
        _f.Job();
        var state = _f.Build();
        var key = StoreLayout.Worker("old");
        var record = old.Record with { ProtocolVersion = Protocol.Version + 1 };
        state.Apply(new StoreChange(ChangeKind.Put, key, new StoreItem(key, ContractJson.Serialize(record), 1, 9000, 2, old.Session), 9000), T0);

        Assert.Equal(1, state.WorkerStateCounts[(int)WorkerState.UnsupportedProtocol]);
        Assert.Equal(0, state.WorkerStateCounts[(int)WorkerState.Ready]);
        Assert.Empty(AssignmentsCreated(new Planner(_f.Options).PlanPass(state, _f.Epoch, T0)));
        Assert.Equal("unsupportedProtocol", global::ControlPlane.Director.Api.WorkerQueries.ToView(record, "old", false, null).State);
    }

    [Theory]
    [InlineData(nameof(SchedulerOptions.SuspectPhi), 0.5)]
    [InlineData(nameof(SchedulerOptions.SuspectPhi), 101)]
    [InlineData(nameof(SchedulerOptions.BeatWindow), 1)]
    [InlineData(nameof(SchedulerOptions.UnstartedAfterHeartbeats), 0.5)]
    [InlineData(nameof(SchedulerOptions.SuspectProbeInterval), 0)]
    public void Bad_detector_settings_are_refused_naming_the_setting(string setting, double value)
    {
        var options = new SchedulerOptions();
        switch (setting)
        {
            case nameof(SchedulerOptions.SuspectPhi): options.SuspectPhi = value; break;
            case nameof(SchedulerOptions.BeatWindow): options.BeatWindow = (int)value; break;
            case nameof(SchedulerOptions.UnstartedAfterHeartbeats): options.UnstartedAfterHeartbeats = value; break;
            default: options.SuspectProbeInterval = TimeSpan.FromSeconds(value); break;
        }

        var error = Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(options.Validate);
        Assert.Contains("Scheduler:" + setting, error.Message, StringComparison.Ordinal);
        new SchedulerOptions().Validate();
    }

    private static long _revision = 10_000;

    private static void Beat(LeaderState state, WorkerInfo worker, DateTimeOffset at)
    {
        var key = StoreLayout.Worker(worker.Id);
        var revision = Interlocked.Increment(ref _revision);
        var record = worker.Record with { HeartbeatAt = at, Running = [] };
        state.Apply(new StoreChange(ChangeKind.Put, key, new StoreItem(key, ContractJson.Serialize(record), 1, revision, revision, worker.Session), revision), at);
    }

    private static string Register(LeaderState state, PlannerFixture f, string id, DateTimeOffset at)
    {
        var worker = f.Worker(id);
        var key = StoreLayout.Worker(id);
        var item = f.Items.Single(i => i.Key == key);
        state.Apply(new StoreChange(ChangeKind.Put, key, item, item.ModRevision), at);
        _ = worker;
        return id;
    }

    private static void ApplyMarker(LeaderState state, string workerId, SuspectRecord record, DateTimeOffset at)
    {
        var key = StoreLayout.Suspect(workerId);
        var revision = Interlocked.Increment(ref _revision);
        state.Apply(new StoreChange(ChangeKind.Put, key, new StoreItem(key, ContractJson.Serialize(record), revision, revision, 1, 0), revision), at);
    }

    private static StoreChange Put(PlannerFixture f, string key, byte[] value)
    {
        _ = f;
        var revision = Interlocked.Increment(ref _revision);
        var item = new StoreItem(key, value, revision, revision, 1, 0);
        return new StoreChange(ChangeKind.Put, key, item, revision);
    }
}
