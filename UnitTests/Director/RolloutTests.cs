using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.UnitTests.Director;

/// <summary>The rollout's pure parts: which agents have a feature at a share, the spec's validation, and the leader's
/// judgement of a step (docs/cells.md, "Progressive feature rollout").</summary>
public sealed class RolloutTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_agents_with_a_feature_only_grow_with_the_share_from_none_to_all()
    {
        var workers = Enumerable.Range(0, 500).Select(i => $"worker-{i}").ToList();
        var previous = new HashSet<string>();
        foreach (var share in Enumerable.Range(0, 101))
        {
            var now = workers.Where(w => RolloutShares.Has("x-fast", w, share)).ToHashSet();
            Assert.True(previous.IsSubsetOf(now), $"an agent lost the feature going to {share} %");
            previous = now;
        }

        Assert.DoesNotContain(workers, w => RolloutShares.Has("x-fast", w, 0));
        Assert.Equal(workers.Count, previous.Count);
        // About half at 50 % (the hash spreads), and each feature picks its own agents.
        var half = workers.Count(w => RolloutShares.Has("x-fast", w, 50));
        Assert.InRange(half, 200, 300);
        Assert.NotEqual(
            workers.Where(w => RolloutShares.Has("x-fast", w, 10)).ToList(),
            workers.Where(w => RolloutShares.Has("x-other", w, 10)).ToList());
    }

    [Fact]
    public void A_halted_rollout_gives_the_feature_to_no_agent_and_a_completed_one_to_every_agent()
    {
        var record = RolloutTransitions.Start(new RolloutSpec { Feature = "x-fast", Steps = [50, 100] }, "me", T0);
        var halted = RolloutTransitions.Halt(record, "operator", RolloutCounts.None, RolloutCounts.None, T0);
        var completed = RolloutTransitions.Advance(record, new(20, 0), new(20, 0), T0.AddMinutes(10));

        Assert.Equal(0, halted.Share);
        Assert.All(Enumerable.Range(0, 100), i => Assert.False(RolloutShares.Has(halted, $"w{i}")));
        Assert.Equal((RolloutState.Completed, 100), (completed.State, completed.Share));
        Assert.All(Enumerable.Range(0, 100), i => Assert.True(RolloutShares.Has(completed, $"w{i}")));
    }

    [Theory]
    [InlineData("fast", "feature")]
    [InlineData("x-", "feature")]
    [InlineData("x-Fast", "feature")]
    [InlineData("x-a/b", "feature")]
    [InlineData("x-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "feature")]
    public void A_feature_name_outside_x_dash_lowercase_is_refused_naming_the_field(string feature, string field)
    {
        var problems = new RolloutSpec { Feature = feature }.Problems();

        Assert.Equal(field, Assert.Single(problems).Field);
        Assert.Contains("'x-'", problems[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_margin_min_jobs_and_step_time_out_of_range_are_each_named()
    {
        Assert.Empty(new RolloutSpec { Feature = "x-ok" }.Problems());
        Assert.Empty(new RolloutSpec { Feature = "x-ok", Steps = [100] }.Problems());
        Assert.Equal(["steps"], Fields(new RolloutSpec { Feature = "x-ok", Steps = [10, 50] }));
        Assert.Equal(["steps"], Fields(new RolloutSpec { Feature = "x-ok", Steps = [50, 10, 100] }));
        Assert.Equal(["steps"], Fields(new RolloutSpec { Feature = "x-ok", Steps = [0, 100] }));
        Assert.Equal(["steps"], Fields(new RolloutSpec { Feature = "x-ok", Steps = [] }));
        Assert.Equal(["margin", "minJobs", "stepSeconds"], Fields(new RolloutSpec { Feature = "x-ok", Margin = 1.5, MinJobs = 0, StepSeconds = 0 }));
        Assert.Equal(["margin"], Fields(new RolloutSpec { Feature = "x-ok", Margin = double.NaN }));

        static List<string> Fields(RolloutSpec spec) => [.. spec.Problems().Select(p => p.Field)];
    }

    [Fact]
    public void A_step_waits_until_each_group_has_its_minimum_of_finished_jobs()
    {
        var record = Rollout();

        Assert.Equal(RolloutVerdict.Wait, RolloutTransitions.Judge(record, new(0, 9), new(20, 0), T0.AddHours(1)).Verdict);
        Assert.Equal(RolloutVerdict.Wait, RolloutTransitions.Judge(record, new(10, 10), new(9, 0), T0.AddHours(1)).Verdict);
    }

    [Fact]
    public void A_step_whose_feature_fails_jobs_beyond_the_margin_halts_without_waiting_for_its_time()
    {
        var record = Rollout();
        // 30 % failed with the feature, 5 % without: 25 points worse, the margin is 10.
        var decision = RolloutTransitions.Judge(record, new(14, 6), new(19, 1), T0.AddSeconds(1));

        Assert.Equal(RolloutVerdict.Halt, decision.Verdict);
        Assert.Contains("with the feature 6/20 failed", decision.Reason, StringComparison.Ordinal);
        var halted = RolloutTransitions.Halt(record, decision.Reason, new(14, 6), new(19, 1), T0.AddSeconds(1));
        Assert.Equal((RolloutState.Halted, 0, decision.Reason), (halted.State, halted.Share, halted.Reason));
        Assert.Equal("halted", Assert.Single(halted.History).Outcome);
    }

    [Fact]
    public void A_step_worse_by_no_more_than_the_margin_advances_once_its_time_has_passed_and_the_last_completes()
    {
        var record = Rollout();
        // 15 % against 5 %: exactly the margin, not more.
        Assert.Equal(RolloutVerdict.Wait, RolloutTransitions.Judge(record, new(17, 3), new(19, 1), T0.AddSeconds(59)).Verdict);
        Assert.Equal(RolloutVerdict.Advance, RolloutTransitions.Judge(record, new(17, 3), new(19, 1), T0.AddSeconds(60)).Verdict);

        var second = RolloutTransitions.Advance(record, new(17, 3), new(19, 1), T0.AddSeconds(60));
        Assert.Equal((RolloutState.Running, 50, 1, T0.AddSeconds(60)), (second.State, second.Share, second.Step, second.StepStartedAt));
        var done = RolloutTransitions.Advance(second, new(20, 0), new(20, 0), T0.AddSeconds(120));
        Assert.Equal((RolloutState.Completed, 100), (done.State, done.Share));
        Assert.Equal(["advanced", "completed"], done.History.Select(h => h.Outcome));
        Assert.Equal(RolloutVerdict.Wait, RolloutTransitions.Judge(done, new(0, 100), new(100, 0), T0.AddHours(1)).Verdict);
    }

    [Fact]
    public void A_record_read_back_and_rewritten_keeps_its_fields_and_never_stores_its_computed_share()
    {
        var record = RolloutTransitions.Advance(Rollout(), new(20, 1), new(20, 0), T0.AddMinutes(1));

        var read = ContractJson.Deserialize<RolloutRecord>(ContractJson.Serialize(record));
        var rewritten = System.Text.Encoding.UTF8.GetString(ContractJson.Serialize(read with { Step = 2 }));

        Assert.Equal((record.Step, record.Share, record.History.Count), (read.Step, read.Share, read.History.Count));
        Assert.Null(read.Unknown);
        Assert.False(System.Text.Json.JsonDocument.Parse(rewritten).RootElement.TryGetProperty("share", out _));
        Assert.Equal(100, ContractJson.Deserialize<RolloutRecord>(System.Text.Encoding.UTF8.GetBytes(rewritten)).Share);
    }

    private static RolloutRecord Rollout() =>
        RolloutTransitions.Start(new RolloutSpec { Feature = "x-fast", Steps = [10, 50, 100], Margin = 0.1, MinJobs = 20, StepSeconds = 60 }, "me", T0);
}
