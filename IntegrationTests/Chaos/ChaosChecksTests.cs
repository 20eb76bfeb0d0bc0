using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// The chaos checks on made-up histories, no servers: a clean history passes, and each kind of violation the suite
/// exists to catch is reported. A check that cannot fail proves nothing.
/// </summary>
public sealed class ChaosChecksTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(9);

    [Fact]
    public void A_clean_history_has_no_violations()
    {
        var checks = Run(new History());

        Assert.Empty(checks.Violations);
        Assert.Contains("2 accepted", checks.Report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_that_did_not_end_or_ended_wrongly_is_reported()
    {
        var history = new History();
        history.Final["b"] = history.Final["b"] with { State = JobState.Running };
        history.Final["a"] = history.Final["a"] with { State = JobState.Failed };

        var violations = Run(history).Violations;

        Assert.Contains(violations, v => v.StartsWith("[1] job b", StringComparison.Ordinal) && v.Contains("did not end", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("[1] job a", StringComparison.Ordinal) && v.Contains("expected Succeeded", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_attempts_running_at_once_are_reported_unless_the_first_agent_was_killed_before()
    {
        var history = new History();
        history.Executions.Add(Start("a", 2, 5, pid: 2, at: 1));
        history.Executions.Add(End("a", 2, 5, pid: 2, at: 4));

        Assert.Contains(Run(history).Violations, v => v.StartsWith("[2] job a: attempt 2", StringComparison.Ordinal));

        history.Executions.RemoveAll(e => e.JobId == "a" && e.Attempt == 1 && e.Event == "end");
        history.KilledAt[1] = T0.AddSeconds(0.5);
        Assert.DoesNotContain(Run(history).Violations, v => v.StartsWith("[2]", StringComparison.Ordinal));
    }

    [Fact]
    public void A_placement_after_its_leaders_deposal_or_below_a_later_epoch_is_reported()
    {
        var history = new History();
        // Epoch 5's key is deleted at revision 30; a placement of epoch 5 commits at 31, after epoch 9 placed at 25.
        history.Audit.Apply(Cells.Default, StoreLayout.Election, new WatchChanges([new StoreChange(ChangeKind.Put, "directors/election/c-1", Item("directors/election/c-1", 5, "{}"), 5)], 5));
        history.Audit.Apply(Cells.Default, StoreLayout.Election, new WatchChanges([new StoreChange(ChangeKind.Delete, "directors/election/c-1", null, 30)], 30));
        history.Audit.Apply(Cells.Default, StoreLayout.Assignments, Placement("b", 2, epoch: 9, revision: 25));
        history.Audit.Apply(Cells.Default, StoreLayout.Assignments, Placement("b", 3, epoch: 5, revision: 31));

        var violations = Run(history).Violations;

        Assert.Contains(violations, v => v.StartsWith("[3]", StringComparison.Ordinal) && v.Contains("at or after the deletion", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("[3]", StringComparison.Ordinal) && v.Contains("after assignments/w/b.2 of the later epoch 9", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("[3] job b: attempt 3 has epoch 5, below attempt 2's 9", StringComparison.Ordinal));
    }

    [Fact]
    public void A_placement_in_one_cell_fenced_by_another_cells_epoch_is_reported()
    {
        // Cell default elects with epoch 5, cell a with epoch 7; job b lives in cell a and ran there with epoch 7.
        var history = new History();
        history.MoveToCell("b", "a", epoch: 7);
        history.Audit.Apply(Cells.Default, StoreLayout.Election, Candidate(Cells.Default, "c-1", 5));
        history.Audit.Apply("a", StoreLayout.Election, Candidate("a", "c-2", 7));
        history.Audit.Apply("a", StoreLayout.Assignments, Placement("b", 1, epoch: 7, revision: 9, cell: "a"));

        // Fenced by its own cell's epoch: clean.
        Assert.DoesNotContain(Run(history).Violations, v => v.StartsWith("[3]", StringComparison.Ordinal));

        // A forged record: a placement in cell a's subtree fenced by cell default's epoch.
        history.Audit.Apply("a", StoreLayout.Assignments, Placement("b", 2, epoch: 5, revision: 11, cell: "a"));

        Assert.Contains(Run(history).Violations, v => v.StartsWith("[3] cells/a/assignments/w/b.2 in cell a (revision 11) is fenced by epoch 5 of cell default's election", StringComparison.Ordinal));
    }

    [Fact]
    public void Placements_of_two_cells_interleave_freely_but_a_job_run_by_another_cells_agent_is_reported()
    {
        // Cell default's epoch 9 places before and after cell a's lower epoch 7: two elections, no order between them.
        var history = new History();
        history.MoveToCell("b", "a", epoch: 7);
        history.Final["a"] = history.Final["a"] with { Epoch = 9 };
        history.Executions.RemoveAll(e => e.JobId == "a");
        history.Executions.AddRange([Start("a", 1, 9, 1, 0), End("a", 1, 9, 1, 2)]);
        history.Audit.Apply(Cells.Default, StoreLayout.Election, Candidate(Cells.Default, "c-1", 9));
        history.Audit.Apply("a", StoreLayout.Election, Candidate("a", "c-2", 7));
        history.Audit.Apply(Cells.Default, StoreLayout.Assignments, Placement("a", 1, epoch: 9, revision: 20));
        history.Audit.Apply("a", StoreLayout.Assignments, Placement("b", 1, epoch: 7, revision: 21, cell: "a"));

        Assert.DoesNotContain(Run(history).Violations, v => v.StartsWith("[3]", StringComparison.Ordinal));

        // Job b of cell a started on agent-1, an agent of cell default.
        history.Executions.Add(Start("b", 1, 7, pid: 1, at: 5));

        Assert.Contains(Run(history).Violations, v => v.StartsWith("[3] job b of cell a attempt 1 ran on agent-1 of cell default", StringComparison.Ordinal));
    }

    [Fact]
    public void One_attempt_with_two_epochs_is_reported()
    {
        var history = new History();
        history.Executions.Add(Start("b", 1, 7, pid: 3, at: 10));

        Assert.Contains(Run(history).Violations, v => v.StartsWith("[3] job b attempt 1 carries epochs", StringComparison.Ordinal));
    }

    [Fact]
    public void A_503_is_allowed_only_within_a_store_fault_window_and_a_500_never()
    {
        var history = new History();
        var fault = history.Timeline.Begin(FaultKind.KillStoreMember, "store-1");
        history.Timeline.End(fault);
        var end = fault.End!.Value;
        history.Calls.Add(new("director-1", "submit", fault.Start, fault.Start.AddSeconds(1), 503, "inside"));
        history.Calls.Add(new("director-1", "submit", end.AddSeconds(5), end.AddSeconds(6), 503, "within the grace"));
        history.Calls.Add(new("director-2", "list", end.AddSeconds(60), end.AddSeconds(61), 503, "outside"));
        history.Calls.Add(new("director-2", "list", fault.Start, fault.Start.AddSeconds(1), 500, "a bug"));

        var violations = Run(history).Violations.Where(v => v.StartsWith("[4]", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, violations.Count);
        Assert.Contains(violations, v => v.Contains("outside", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.StartsWith("[4] 500", StringComparison.Ordinal));
    }

    private static ChaosChecks Run(History history)
    {
        var evidence = new ChaosEvidence(
            history.Accepted, [], [], history.Final, new Dictionary<string, Dictionary<int, HashSet<long>>>(),
            [.. history.Executions.OrderBy(e => e.Time)], history.KilledAt, history.Audit, history.Calls, [], history.Timeline, history.AgentCells);
        var checks = new ChaosChecks(evidence, Grace);
        checks.RunAll();
        return checks;
    }

    private static ExecutionEvent Start(string job, int attempt, long epoch, int pid, double at) =>
        new("start", job, attempt, epoch, $"agent-{pid}", pid, T0.AddSeconds(at), null);

    private static ExecutionEvent End(string job, int attempt, long epoch, int pid, double at) =>
        new("end", job, attempt, epoch, $"agent-{pid}", pid, T0.AddSeconds(at), "Succeeded");

    private static StoreItem Item(string key, long revision, string json) => new(key, Encoding.UTF8.GetBytes(json), revision, revision, 1, 0);

    private static WatchChanges Candidate(string cell, string name, long revision)
    {
        var key = Cells.Key(cell, $"{StoreLayout.Election}/{name}");
        return new([new StoreChange(ChangeKind.Put, key, Item(key, revision, "{}"), revision)], revision);
    }

    private static WatchChanges Placement(string job, int attempt, long epoch, long revision, string cell = Cells.Default)
    {
        var key = Cells.Key(cell, $"assignments/w/{job}.{attempt}");
        var record = ContractJson.Serialize(new AssignmentRecord { JobId = job, Attempt = attempt, Epoch = epoch, Executor = "sleep" });
        return new([new StoreChange(ChangeKind.Put, key, new StoreItem(key, record, revision, revision, 1, 0), revision)], revision);
    }

    /// <summary>Two jobs that each ran once, cleanly: a succeeds on pid 1, b fails as designed on pid 2.</summary>
    private sealed class History
    {
        public History()
        {
            var succeed = new JobPlan(0, "sleep", new JobSpec { Name = "a", Executor = "sleep" }, JobState.Succeeded, null);
            var fail = new JobPlan(1, "shell-fails", new JobSpec { Name = "b", Executor = "shell" }, JobState.Failed, null);
            Accepted = [new(succeed, "a", 10, "director-1", 1, 201), new(fail, "b", 11, "director-2", 1, 201)];
            Final["a"] = new JobView { Id = "a", Spec = succeed.Spec, State = JobState.Succeeded, Attempt = 1, Epoch = 5 };
            Final["b"] = new JobView { Id = "b", Spec = fail.Spec, State = JobState.Failed, Attempt = 1, Epoch = 5 };
            Executions.AddRange([Start("a", 1, 5, 1, 0), End("a", 1, 5, 1, 2), Start("b", 1, 5, 2, 0), End("b", 1, 5, 2, 1)]);
        }

        public List<AcceptedJob> Accepted { get; }

        public Dictionary<string, JobView> Final { get; } = [];

        public List<ExecutionEvent> Executions { get; } = [];

        public Dictionary<int, DateTimeOffset> KilledAt { get; } = [];

        public StoreAudit Audit { get; } = new(new StoreTarget("etcd", "127.0.0.1:1", "unused", TimeSpan.FromSeconds(4)), [Cells.Default, "a"]);

        /// <summary>Each agent's cell: agent-&lt;pid&gt; runs the pid's executions; all in the default cell at first.</summary>
        public Dictionary<string, string> AgentCells { get; } = new() { ["agent-1"] = Cells.Default, ["agent-2"] = Cells.Default, ["agent-3"] = Cells.Default };

        /// <summary>Moves <paramref name="job"/> into <paramref name="cell"/>: its listing, its executions (with
        /// <paramref name="epoch"/>) and the agent that ran them.</summary>
        public void MoveToCell(string job, string cell, long epoch)
        {
            Final[job] = Final[job] with { Cell = cell, Epoch = epoch };
            for (var i = 0; i < Executions.Count; i++)
            {
                if (Executions[i].JobId == job)
                {
                    Executions[i] = Executions[i] with { Epoch = epoch };
                    AgentCells[Executions[i].WorkerId] = cell;
                }
            }
        }

        public List<ApiCall> Calls { get; } = [];

        public FaultTimeline Timeline { get; } = new();
    }
}
