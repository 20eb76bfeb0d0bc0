using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using static ControlPlane.UnitTests.Director.Scheduling.PlannerFixture;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>The leader's side of feature <c>beatFence</c> (docs/protocol.md, "Agent: beat fence"): the attempts of a
/// worker whose registration has not changed for its lease L and L/2 more (the leader's clock) are taken back, each
/// write conditioned on the registration the leader saw; a beat moves the bound; workers without the feature keep
/// their attempts.</summary>
public sealed class BeatFenceTakeBackTests
{
    private static readonly string[] FenceFeatures = [Protocol.Features.WorkerHeartbeat, Protocol.Features.BeatFence, Protocol.Features.Cancel];
    private readonly PlannerFixture _f = new();

    [Fact]
    public void Running_and_unstarted_attempts_are_taken_back_after_the_lease_and_a_half_conditioned_on_the_registration_seen()
    {
        // L = 4 s: taken back 6 s after the leader saw the registration (at T0), not before.
        var worker = _f.Worker("w1", features: FenceFeatures, heartbeatSeconds: 1, beatFenceSeconds: 4);
        var (job, running) = _f.Running(worker, spec: new JobSpec { Executor = "sleep", MaxAttempts = 1 });
        var (other, assigned) = _f.Running(worker, state: AttemptState.Assigned);
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        var early = planner.PlanPass(state, _f.Epoch, T0 + TimeSpan.FromSeconds(5.9));
        Assert.DoesNotContain(early.Writes, w => w.Kind == WriteKind.TakeBack);
        Assert.True(early.NextDue <= T0 + TimeSpan.FromSeconds(6), $"next due {early.NextDue:O}");

        // The worker falls due at 6 s: its attempts are judged again at once (the pass asks for the next one now).
        var due = T0 + TimeSpan.FromSeconds(6);
        var judged = planner.PlanPass(state, _f.Epoch, due);
        Assert.Equal(due, judged.NextDue);
        var plan = planner.PlanPass(state, _f.Epoch, due);
        var takeBacks = plan.Writes.Where(w => w.Kind == WriteKind.TakeBack).ToList();
        Assert.Equal(
            new[] { job.Record.Id, other.Record.Id }.Order(StringComparer.Ordinal),
            takeBacks.Select(w => w.JobId!).Order(StringComparer.Ordinal));

        var workerKey = StoreLayout.Worker("w1");
        foreach (var write in takeBacks)
        {
            Assert.Contains(new Condition(ConditionKind.CreatedAt, workerKey, worker.CreateRevision), write.Conditions);
            Assert.Contains(new Condition(ConditionKind.VersionEquals, workerKey, worker.Version), write.Conditions);
            Assert.Contains("fenced itself", write.Detail, StringComparison.Ordinal);
        }

        // An interruption, not one of the job's attempts: the job with maxAttempts 1 is Pending again.
        var next = ContractJson.Deserialize<JobRecord>(Operations(plan).Single(o => o.Key == job.Key).Value.Span);
        Assert.Equal(JobState.Pending, next.State);
        Assert.Equal(2, next.Attempt);
        Assert.Equal(1, next.Interruptions);
        Assert.Contains(Operations(plan), o => o.Kind == OperationKind.Delete && o.Key == running.Key);
        Assert.Contains(Operations(plan), o => o.Kind == OperationKind.Delete && o.Key == assigned.Key);
    }

    [Fact]
    public void A_beat_moves_the_bound_and_the_take_back_is_conditioned_on_the_newest_registration()
    {
        var worker = _f.Worker("w1", features: FenceFeatures, heartbeatSeconds: 1, beatFenceSeconds: 4);
        var (job, _) = _f.Running(worker);
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        var beat = T0 + TimeSpan.FromSeconds(5);
        var version = Beat(state, worker, beat);
        Assert.DoesNotContain(planner.PlanPass(state, _f.Epoch, beat).Writes, w => w.Kind == WriteKind.TakeBack);
        Assert.DoesNotContain(PassesAt(planner, state, T0 + TimeSpan.FromSeconds(10.9)), w => w.Kind == WriteKind.TakeBack);

        var writes = PassesAt(planner, state, beat + TimeSpan.FromSeconds(6));
        var takeBack = Assert.Single(writes, w => w.Kind == WriteKind.TakeBack);
        Assert.Equal(job.Record.Id, takeBack.JobId);
        Assert.Contains(new Condition(ConditionKind.VersionEquals, StoreLayout.Worker("w1"), version), takeBack.Conditions);
    }

    [Theory]
    [InlineData(false, 4.0)]
    [InlineData(true, null)]
    [InlineData(true, 1e300)]
    public void A_worker_without_the_feature_or_a_usable_lease_keeps_its_running_attempts(bool feature, double? lease)
    {
        string[] features = feature ? FenceFeatures : [Protocol.Features.WorkerHeartbeat, Protocol.Features.Cancel];
        var worker = _f.Worker("w1", features: features, heartbeatSeconds: 1, beatFenceSeconds: lease);
        _f.Running(worker);
        var state = _f.Build();

        var writes = PassesAt(new Planner(_f.Options), state, T0 + TimeSpan.FromMinutes(10));
        Assert.DoesNotContain(writes, w => w.Kind == WriteKind.TakeBack);
    }

    /// <summary>Plans passes at <paramref name="at"/> until one asks for no pass sooner (at most 5), as the loop would.</summary>
    private List<PlannedWrite> PassesAt(Planner planner, LeaderState state, DateTimeOffset at)
    {
        var writes = new List<PlannedWrite>();
        for (var i = 0; i < 5; i++)
        {
            var plan = planner.PlanPass(state, _f.Epoch, at);
            writes.AddRange(plan.Writes);
            if (plan.NextDue is not { } next || next > at)
            {
                break;
            }
        }

        return writes;
    }

    private static long _revision = 50_000;

    /// <summary>A registration update of <paramref name="worker"/> seen at <paramref name="at"/>; returns its version.</summary>
    private static long Beat(LeaderState state, WorkerInfo worker, DateTimeOffset at)
    {
        var key = StoreLayout.Worker(worker.Id);
        var revision = Interlocked.Increment(ref _revision);
        var version = worker.Version + revision - 50_000;
        var record = worker.Record with { HeartbeatAt = at, Running = [] };
        state.Apply(new StoreChange(ChangeKind.Put, key, new StoreItem(key, ContractJson.Serialize(record), worker.CreateRevision, revision, version, worker.Session), revision), at);
        return version;
    }
}
