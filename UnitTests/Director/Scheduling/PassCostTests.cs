using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>
/// What a pass looks at, counted rather than timed (timing belongs in Bench/): once a large cluster is loaded, a pass
/// judges what changed and places what fits, whatever the number of jobs waiting or workers full.
/// </summary>
public sealed class PassCostTests
{
    private const int Workers = 1000;
    private const int Slots = 4;
    private const int Waiting = 6000; // beyond the 4,000 slots

    [Fact]
    public void Once_loaded_a_pass_judges_only_what_changed_and_places_into_the_freed_slot()
    {
        var f = new PlannerFixture { Options = { MaxPlacementsPerPass = 100_000 } };
        for (var w = 0; w < Workers; w++)
        {
            f.Worker($"w{w:0000}", slots: Slots);
        }

        var jobs = Enumerable.Range(0, Workers * Slots + Waiting).Select(_ => f.Job()).ToList();
        var state = f.Build();
        var planner = new Planner(f.Options);

        // The first pass of a term judges everything and fills every slot.
        var first = planner.PlanPass(state, f.Epoch, f.Now);
        var placements = first.Writes.Where(w => w.Kind == WriteKind.Place).ToList();
        Assert.Equal(Workers * Slots, placements.Count);
        Assert.True(first.Evaluated >= jobs.Count, $"the first pass judged {first.Evaluated}");

        // The store confirms them: every placement's job update and assignment arrive as changes.
        var revision = 1_000_000L;
        var assignmentKeys = new List<string>();
        foreach (var write in placements)
        {
            foreach (var operation in write.Operations)
            {
                var item = new StoreItem(operation.Key, operation.Value, ++revision, revision, (operation.ExpectedVersion ?? 0) + 1, 0);
                state.Apply(new StoreChange(ChangeKind.Put, operation.Key, item, revision), f.Now);
                if (operation.Kind == OperationKind.Create)
                {
                    assignmentKeys.Add(operation.Key);
                }
            }
        }

        var settle = planner.PlanPass(state, f.Epoch, f.Now);
        Assert.Empty(settle.Writes); // full: nothing fits, and 6,000 waiting jobs cost one class check
        var idle = planner.PlanPass(state, f.Epoch, f.Now);
        Assert.Equal((0, 0), (idle.Writes.Count, idle.Evaluated));

        // One attempt reports success.
        var done = assignmentKeys[1234];
        var record = state.Assignments[done].Record!;
        var report = ContractJson.Serialize(record with { State = AttemptState.Succeeded, ExitCode = 0 });
        state.Apply(new StoreChange(ChangeKind.Put, done, new StoreItem(done, report, 1, ++revision, 2, 0), revision), f.Now);

        var pass = planner.PlanPass(state, f.Epoch, f.Now);

        Assert.Equal([WriteKind.Place, WriteKind.Finish], pass.Writes.Select(w => w.Kind).Order());
        Assert.True(pass.Evaluated <= 4, $"a pass after one report judged {pass.Evaluated} items");
        var placedOn = StoreKeys.Name(StoreKeys.Parent(pass.Writes.Single(w => w.Kind == WriteKind.Place).Operations[1].Key)!);
        Assert.Equal(StoreKeys.Name(StoreKeys.Parent(done)!), placedOn); // the only worker with room
        Assert.Equal(Waiting, pass.Pending);
    }
}
