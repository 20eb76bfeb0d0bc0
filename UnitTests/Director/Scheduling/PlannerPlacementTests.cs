using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using static ControlPlane.UnitTests.Director.Scheduling.PlannerFixture;

namespace ControlPlane.UnitTests.Director.Scheduling;

public sealed class PlannerPlacementTests
{
    private readonly PlannerFixture _f = new();

    [Fact]
    public void A_pending_job_is_assigned_with_the_fencing_token_and_the_workers_session()
    {
        var worker = _f.Worker("w1");
        var job = _f.Job();

        var plan = _f.Plan();

        var (key, assignment) = Assert.Single(AssignmentsCreated(plan));
        Assert.Equal(StoreLayout.Assignment("w1", job.Record.Id, 1), key);
        Assert.Equal((_f.Epoch, 1, worker.Session), (assignment.Epoch, assignment.Attempt, assignment.WorkerSession));
        var written = JobWritten(plan, job.Record.Id);
        Assert.Equal((JobState.Assigned, "w1", _f.Epoch), (written.State, written.WorkerId, written.Epoch));
        var update = Operations(plan).Single(o => o.Kind == OperationKind.Update);
        Assert.Equal(job.Version, update.ExpectedVersion);
    }

    [Fact]
    public void Higher_priority_goes_first_then_submission_order_and_slots_bound_what_is_placed()
    {
        _f.Worker("w1", slots: 2);
        var first = _f.Job();
        var second = _f.Job();
        var urgent = _f.Job(new JobSpec { Executor = "sleep", Priority = 5 });

        var placed = AssignmentsCreated(_f.Plan()).Select(a => a.Record.JobId).ToList();

        Assert.Equal([urgent.Record.Id, first.Record.Id], placed);
        Assert.DoesNotContain(second.Record.Id, placed);
    }

    [Fact]
    public void Jobs_go_to_the_least_loaded_worker()
    {
        var busy = _f.Worker("a-busy", slots: 4);
        _f.Worker("b-idle", slots: 4);
        _f.Running(busy);
        _f.Job();

        var (key, _) = Assert.Single(AssignmentsCreated(_f.Plan()));

        Assert.StartsWith("assignments/b-idle/", key, StringComparison.Ordinal);
    }

    [Fact]
    public void Constraints_must_match_labels_and_executors_and_features_must_be_advertised()
    {
        _f.Worker("plain", labels: []);
        _f.Worker("gpu", labels: new() { ["gpu"] = "true" }, features: [Protocol.Features.Timeout]);
        var needsGpu = _f.Job(new JobSpec { Executor = "sleep", Constraints = new Dictionary<string, string> { ["gpu"] = "true" } });
        var needsEnvAndGpu = _f.Job(new JobSpec
        {
            Executor = "sleep",
            Constraints = new Dictionary<string, string> { ["gpu"] = "true" },
            Env = new Dictionary<string, string> { ["A"] = "1" },
        });
        var unknownHandler = _f.Job(new JobSpec { Executor = "render" });

        var plan = _f.Plan();
        var placed = AssignmentsCreated(plan).ToDictionary(a => a.Record.JobId, a => a.Key);

        Assert.StartsWith("assignments/gpu/", placed[needsGpu.Record.Id], StringComparison.Ordinal);
        Assert.False(placed.ContainsKey(needsEnvAndGpu.Record.Id));
        Assert.False(placed.ContainsKey(unknownHandler.Record.Id));
        Assert.Equal(2, plan.Unplaceable);
    }

    [Fact]
    public void An_assignment_carries_only_the_fields_its_worker_advertised()
    {
        _f.Worker("lean", features: []);
        _f.Job(new JobSpec { Executor = "shell", Command = ["/bin/true"] });

        var op = Operations(_f.Plan()).Single(o => o.Kind == OperationKind.Create);
        var json = Json(op);

        Assert.DoesNotContain("env", json, StringComparison.Ordinal);
        Assert.DoesNotContain("timeoutSeconds", json, StringComparison.Ordinal);
        Assert.DoesNotContain("workingDirectory", json, StringComparison.Ordinal);
        Assert.Contains("\"command\":[\"/bin/true\"]", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fifo_group_offers_only_its_oldest_job_and_nothing_while_one_is_out()
    {
        _f.Worker("w1", slots: 8);
        var head = _f.Job(new JobSpec { Executor = "sleep", Group = "g" });
        _f.Job(new JobSpec { Executor = "sleep", Group = "g", Priority = 9 });

        var placed = AssignmentsCreated(_f.Plan()).Select(a => a.Record.JobId).ToList();
        Assert.Equal([head.Record.Id], placed);

        var busy = new PlannerFixture();
        var w = busy.Worker("w1", slots: 8);
        busy.Running(w, new JobSpec { Executor = "sleep", Group = "g" });
        busy.Job(new JobSpec { Executor = "sleep", Group = "g" });
        Assert.Empty(AssignmentsCreated(busy.Plan()));
    }

    [Fact]
    public void Draining_suspect_and_incompatible_workers_get_nothing_new()
    {
        _f.Worker("draining", draining: true);
        _f.Worker("drain-requested", drainRequested: true);
        _f.Worker("suspect", suspect: true);
        _f.Job();

        var plan = _f.Plan();

        Assert.Empty(AssignmentsCreated(plan));
        Assert.Equal(1, plan.Unplaceable);
    }

    [Fact]
    public void A_job_in_backoff_waits_and_the_plan_says_when_to_look_again()
    {
        _f.Worker("w1");
        var notBefore = T0.AddSeconds(4);
        _f.Job(edit: r => r with { NotBefore = notBefore, Attempt = 2 });

        var plan = _f.Plan();

        Assert.Empty(AssignmentsCreated(plan));
        Assert.Equal(notBefore, plan.NextDue);
    }
}
