using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>Concurrency limits per key (issue 19): what the planner places, what it holds back, what it writes.</summary>
public sealed class PlannerConcurrencyTests
{
    private const string Key = "payments-api";
    private static readonly string RecordKey = ConcurrencyRecord.StoreKeyOf(Key);
    private readonly PlannerFixture _f = new();
    private long _revision = 5_000_000;

    private static JobSpec Keyed(int limit, string key = Key, int priority = 0) =>
        new() { Executor = "sleep", Priority = priority, Concurrency = new JobConcurrency { Key = key, Limit = limit } };

    [Fact]
    public void A_key_places_up_to_its_limit_in_one_write_that_creates_its_record()
    {
        for (var w = 0; w < 4; w++)
        {
            _f.Worker($"w{w}", slots: 4);
        }

        var jobs = Enumerable.Range(0, 10).Select(_ => _f.Job(Keyed(3))).ToList();

        var plan = _f.Plan();

        var write = Assert.Single(plan.Writes);
        Assert.Equal(WriteKind.Place, write.Kind);
        Assert.Equal([.. jobs.Take(3).Select(j => j.Record.Id)], Placed(plan));
        var record = write.Operations[^1];
        Assert.Equal((OperationKind.Create, RecordKey), (record.Kind, record.Key));
        var written = ContractJson.Deserialize<ConcurrencyRecord>(record.Value.Span);
        Assert.Equal((Key, jobs[0].Record.Id, 1, 3, _f.Epoch), (written.Key, written.Job, written.Attempt, written.Placed, written.Epoch));
        Assert.Equal([(Key, 3, 3, 7)], plan.HeldKeys);
    }

    [Fact]
    public void Jobs_out_count_against_the_limit_and_the_records_version_is_the_condition()
    {
        var worker = _f.Worker("w1", slots: 8);
        var (running, _) = _f.Running(worker, Keyed(3));
        _f.Running(worker, Keyed(3), state: AttemptState.Assigned);
        _f.KeyRecord(Key, running, version: 4);
        var pending = Enumerable.Range(0, 5).Select(_ => _f.Job(Keyed(3))).ToList();

        var plan = _f.Plan();

        Assert.Equal([pending[0].Record.Id], Placed(plan));
        var record = Assert.Single(plan.Writes).Operations[^1];
        Assert.Equal((OperationKind.Update, RecordKey, 4L), (record.Kind, record.Key, record.ExpectedVersion));
    }

    [Fact]
    public void A_full_key_costs_a_pass_one_check_however_many_of_its_jobs_wait()
    {
        var worker = _f.Worker("w1", slots: 4);
        var (running, _) = _f.Running(worker, Keyed(2));
        _f.Running(worker, Keyed(2));
        _f.KeyRecord(Key, running);
        for (var i = 0; i < 10_000; i++)
        {
            _f.Job(Keyed(2));
        }

        var free = _f.Job(new JobSpec { Executor = "sleep", Priority = -1 });
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        var first = planner.PlanPass(state, _f.Epoch, _f.Now);

        Assert.Equal([free.Record.Id], Placed(first));
        Assert.Equal([(Key, 2, 2, 10_000)], first.HeldKeys);
        Assert.Equal(2, first.QueueChecks); // the key's class, once, and the free job
        Confirm(state, first);
        Assert.Empty(planner.PlanPass(state, _f.Epoch, _f.Now).Writes); // the placement's own changes, judged

        // Nothing changed: the next pass judges nothing and looks at the key's class once.
        var idle = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Equal((0, 0, 1), (idle.Writes.Count, idle.Evaluated, idle.QueueChecks));
        Assert.Equal([(Key, 2, 2, 10_000)], idle.HeldKeys);
    }

    [Fact]
    public void Each_job_is_judged_by_its_own_limit()
    {
        var worker = _f.Worker("w1", slots: 10);
        var (running, _) = _f.Running(worker, Keyed(2));
        _f.Running(worker, Keyed(5));
        _f.KeyRecord(Key, running);
        var strict = Enumerable.Range(0, 3).Select(_ => _f.Job(Keyed(2))).ToList();
        var lenient = Enumerable.Range(0, 4).Select(_ => _f.Job(Keyed(5))).ToList();

        var plan = _f.Plan();

        // Two are out: the limit-2 jobs wait, the limit-5 jobs fill the key to 5, in the key's one write.
        Assert.Equal([.. lenient.Take(3).Select(j => j.Record.Id)], Placed(plan));
        Assert.Single(plan.Writes);
        Assert.Contains((Key, 2, 2, strict.Count), plan.HeldKeys);
    }

    [Fact]
    public void Keys_are_independent_and_each_writes_once_a_pass_within_a_transactions_limits()
    {
        _f.Worker("w1", slots: 200);
        var many = Enumerable.Range(0, 100).Select(_ => _f.Job(Keyed(100))).ToList();
        var other = _f.Job(Keyed(1, key: "other"));
        var free = _f.Job();

        var plan = _f.Plan();

        var keyed = plan.Writes.Single(w => w.Operations[^1].Key == RecordKey);
        var perWrite = (PlanExecutor.MaxOperations - 1) / 2;
        Assert.Equal(perWrite, keyed.Operations.Count(o => o.Key.StartsWith(StoreLayout.Assignments, StringComparison.Ordinal)));
        Assert.True(keyed.Entries <= PlanExecutor.MaxOperations);
        Assert.Single(plan.Writes, w => w.Operations[^1].Key == ConcurrencyRecord.StoreKeyOf("other"));
        Assert.Contains(plan.Writes, w => w.JobId == free.Record.Id && w.Operations.Count == 2);
        Assert.Equal(3, plan.Writes.Count);
        Assert.Equal(_f.Now, plan.NextDue); // the rest of the key in the next pass, at once
        Assert.Contains(other.Record.Id, Placed(plan));
        Assert.Equal(many.Take(perWrite).Select(j => j.Record.Id), Placed(plan).Where(id => many.Any(m => m.Record.Id == id)));
        Assert.Equal(perWrite + 2, Placed(plan).Count());
    }

    [Fact]
    public void A_view_holding_part_of_the_last_placement_holds_the_key_until_every_job_of_it_is_seen_placed()
    {
        // ZooKeeper's watches read changed keys in batches: A of a two-job placement is seen placed, B not yet.
        var worker = _f.Worker("w1", slots: 4);
        var a = _f.Job(Keyed(2));
        var b = _f.Job(Keyed(2));
        _f.KeyRecord(Key, a, version: 2, b);
        var c = _f.Job(Keyed(2, priority: 5));
        var state = _f.Build();
        Put(state, a, a.Record with { State = JobState.Assigned, WorkerId = worker.Id });
        var planner = new Planner(_f.Options);

        Assert.False(state.KeySettled(RecordKey));
        Assert.DoesNotContain(c.Record.Id, Placed(planner.PlanPass(state, _f.Epoch, _f.Now)));

        // B arrives: 2 of 2 out, the key is full (and settled).
        Put(state, b, b.Record with { State = JobState.Assigned, WorkerId = worker.Id });
        Assert.True(state.KeySettled(RecordKey));
        Assert.DoesNotContain(c.Record.Id, Placed(planner.PlanPass(state, _f.Epoch, _f.Now)));
    }

    [Fact]
    public void A_record_ahead_of_the_view_holds_the_key_until_the_job_it_names_is_seen_placed()
    {
        var worker = _f.Worker("w1", slots: 4);
        var unseen = _f.Job(Keyed(3));
        _f.KeyRecord(Key, unseen, version: 2); // its placement landed, the view has not seen the job change yet
        var other = _f.Job(Keyed(3, priority: 5));
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        var held = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Empty(held.Writes);
        Assert.False(state.KeySettled(RecordKey));

        // The job's placement arrives: 1 of 3 out, the key places again, conditioned on the record's version.
        Put(state, unseen, unseen.Record with { State = JobState.Assigned, WorkerId = worker.Id });
        var plan = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Equal([other.Record.Id], Placed(plan));
        Assert.Equal(2L, Assert.Single(plan.Writes).Operations[^1].ExpectedVersion);
    }

    [Fact]
    public void Counts_follow_placement_finish_reassignment_and_cancellation()
    {
        var worker = _f.Worker("w1", slots: 4);
        var jobs = Enumerable.Range(0, 3).Select(_ => _f.Job(Keyed(3))).ToList();
        var state = _f.Build();
        var planner = new Planner(_f.Options);

        Confirm(state, planner.PlanPass(state, _f.Epoch, _f.Now));
        Assert.Equal(3, state.KeyOut(Key));

        // One succeeds, one is taken back (its worker restarted), one is cancelled while out: each leaves the count.
        var assignments = state.Assignments.Values.OrderBy(a => a.JobId, StringComparer.Ordinal).ToList();
        Report(state, assignments[0], AttemptState.Succeeded);
        Report(state, assignments[1], AttemptState.Lost);
        Report(state, assignments[2], AttemptState.Cancelled);
        var folded = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Equal(3, folded.Writes.Count(w => w.Kind == WriteKind.Finish));
        Confirm(state, folded);
        Assert.Equal(0, state.KeyOut(Key));

        // The lost one is Pending again (attempt 2) and placed again; a Pending one cancelled leaves the unfinished count.
        var again = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Single(Placed(again));
        Confirm(state, again);
        Assert.Equal(1, state.KeyOut(Key));
        Assert.True(state.KeyRecordNeeded(RecordKey));
        Assert.Equal(worker.Id, Assert.Single(state.Assignments.Values).WorkerId);
    }

    [Fact]
    public void A_record_no_unfinished_job_needs_is_removed_and_one_still_needed_is_kept()
    {
        var done = _f.Job(Keyed(1), JobState.Succeeded, edit: r => r with { FinishedAt = _f.Now });
        _f.KeyRecord(Key, done, version: 7);
        var pending = _f.Job(Keyed(1, key: "busy"), JobState.Waiting, edit: r => r with { NotBefore = _f.Now.AddHours(1) });
        _f.KeyRecord("busy", pending, version: 3);

        var plan = _f.Plan();

        var forget = Assert.Single(plan.Writes, w => w.Kind == WriteKind.ForgetKey);
        var delete = Assert.Single(forget.Operations);
        Assert.Equal((OperationKind.Delete, RecordKey, 7L), (delete.Kind, delete.Key, delete.ExpectedVersion));
    }

    [Fact]
    public async Task A_placement_whose_answer_was_lost_makes_the_next_placement_of_the_key_fail_in_the_store()
    {
        await using var store = new InMemoryStoreServer().Connect();
        var worker = _f.Worker("w1", slots: 4);
        var first = _f.Job(Keyed(1));
        foreach (var item in _f.Items)
        {
            await store.CommitAsync(new Transaction().Create(item.Key, item.Value, ephemeral: item.IsEphemeral));
        }

        var state = _f.Build();
        var planner = new Planner(_f.Options);
        var placing = planner.PlanPass(state, _f.Epoch, _f.Now);
        store.LoseNextCommitReply();
        await Assert.ThrowsAsync<StoreOutcomeUnknownException>(() => CommitAsync(store, Assert.Single(placing.Writes)));
        state.Redo(placing.Writes[0]); // as the executor hands it back: the view does not know it landed

        // A more urgent job of the key arrives before the view learns of the first placement: its placement is refused.
        var urgent = _f.Job(Keyed(1, priority: 9));
        Put(state, urgent, urgent.Record);
        await store.CommitAsync(new Transaction().Create(urgent.Key, ContractJson.Serialize(urgent.Record)));
        var second = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Equal([urgent.Record.Id], Placed(second));
        Assert.False((await CommitAsync(store, Assert.Single(second.Writes))).Succeeded);
        state.Redo(second.Writes[0]);

        // The watch brings the truth: the key is full, nothing more is placed.
        foreach (var key in new[] { first.Key, RecordKey, StoreLayout.Assignment(worker.Id, first.Record.Id, 1) })
        {
            var item = (await store.GetAsync(key))!;
            state.Apply(new StoreChange(ChangeKind.Put, key, item, item.ModRevision), _f.Now);
        }

        var third = planner.PlanPass(state, _f.Epoch, _f.Now);
        Assert.Empty(Placed(third));
        Assert.Equal(1, state.KeyOut(Key));
        Assert.Equal([(Key, 1, 1, 1)], third.HeldKeys);
    }

    private static Task<CommitResult> CommitAsync(InMemoryStore store, PlannedWrite write)
    {
        var transaction = new Transaction();
        write.Apply(transaction);
        return store.CommitAsync(transaction);
    }

    /// <summary>The store confirms every write of <paramref name="plan"/>: each operation comes back as a change.</summary>
    private void Confirm(LeaderState state, Plan plan)
    {
        foreach (var write in plan.Writes)
        {
            var revision = ++_revision;
            var items = write.Operations.Select(o => o.Kind == OperationKind.Delete ? null
                : new StoreItem(o.Key, o.Value, CreateRevisionOf(state, o.Key) ?? revision, revision, (o.ExpectedVersion ?? 0) + 1, 0)).ToList();
            state.ApplyCommitted(new CommittedWrite(write, items, revision), _f.Now);
        }
    }

    private static long? CreateRevisionOf(LeaderState state, string key) =>
        state.Jobs.Values.FirstOrDefault(j => j.Key == key)?.CreateRevision ?? state.KeyRecords.GetValueOrDefault(key)?.CreateRevision;

    /// <summary>The agent reports <paramref name="outcome"/> on <paramref name="assignment"/>.</summary>
    private void Report(LeaderState state, AssignmentInfo assignment, AttemptState outcome)
    {
        var revision = ++_revision;
        var value = ContractJson.Serialize(assignment.Record! with { State = outcome, ExitCode = 0 });
        state.Apply(new StoreChange(ChangeKind.Put, assignment.Key, new StoreItem(assignment.Key, value, assignment.ModRevision, revision, assignment.Version + 1, 0), revision), _f.Now);
    }

    /// <summary>A new version of <paramref name="job"/>'s record, as its watch would bring it.</summary>
    private void Put(LeaderState state, JobInfo job, JobRecord record)
    {
        var revision = ++_revision;
        var held = state.Jobs.GetValueOrDefault(job.Record.Id);
        var item = new StoreItem(job.Key, ContractJson.Serialize(record), job.CreateRevision, revision, (held?.Version ?? 0) + 1, 0);
        state.Apply(new StoreChange(ChangeKind.Put, job.Key, item, revision), _f.Now);
    }

    /// <summary>The jobs the plan assigns, in write order (a plan of several keyed writes can exceed one transaction).</summary>
    private static IEnumerable<string> Placed(Plan plan) =>
        plan.Writes.SelectMany(w => w.Operations)
            .Where(o => o.Kind == OperationKind.Create && o.Key.StartsWith(StoreLayout.Assignments + "/", StringComparison.Ordinal))
            .Select(o => ContractJson.Deserialize<AssignmentRecord>(o.Value.Span).JobId);
}
