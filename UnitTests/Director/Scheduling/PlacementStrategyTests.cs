using ControlPlane.Contracts.Jobs;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary><c>Scheduler:Placement</c>: spread (the least loaded worker) and pack (the most loaded one with room), both
/// breaking ties by worker id, so two planners fed the same state place the same way (docs/cells.md, shadow directors).</summary>
public sealed class PlacementStrategyTests
{
    private readonly PlannerFixture _f = new();

    [Fact]
    public void Spread_takes_the_least_loaded_worker_and_pack_the_most_loaded_that_has_room()
    {
        var a = _f.Worker("a", slots: 4);
        _f.Worker("b", slots: 4);
        var c = _f.Worker("c", slots: 2);
        _f.Running(a);
        _f.Running(c);
        _f.Running(c); // c is full: never a candidate
        _f.Job();

        Assert.Equal("b", PlacedOn(_f.Plan()));
        _f.Options.Placement = "pack";
        Assert.Equal("a", PlacedOn(_f.Plan()));
    }

    [Theory]
    [InlineData("spread")]
    [InlineData("pack")]
    public void Ties_go_to_the_lowest_worker_id_whatever_order_the_workers_came_in(string placement)
    {
        _f.Options.Placement = placement;
        _f.Worker("w-3");
        _f.Worker("w-1");
        _f.Worker("w-2");
        _f.Job();

        Assert.Equal("w-1", PlacedOn(_f.Plan()));
    }

    [Fact]
    public void Pack_fills_one_worker_before_the_next_within_a_pass_and_spread_alternates()
    {
        _f.Worker("a", slots: 2);
        _f.Worker("b", slots: 2);
        var jobs = Enumerable.Range(0, 3).Select(_ => _f.Job()).ToList();

        _f.Options.Placement = "pack";
        var packed = Placements(_f.Plan());
        Assert.Equal(["a", "a", "b"], jobs.Select(j => packed[j.Record.Id]));

        _f.Options.Placement = "spread";
        var spread = Placements(_f.Plan());
        Assert.Equal(["a", "b", "a"], jobs.Select(j => spread[j.Record.Id]));
    }

    [Fact]
    public void Pack_skips_a_loaded_worker_without_room_for_a_multi_slot_job()
    {
        _f.Options.Placement = "pack";
        var a = _f.Worker("a", slots: 4);
        _f.Worker("b", slots: 4);
        _f.Running(a);
        _f.Running(a);
        _f.Running(a);
        _f.Job(new JobSpec { Executor = "sleep", Slots = 2 });

        Assert.Equal("b", PlacedOn(_f.Plan()));
    }

    [Theory]
    [InlineData("spread", PlacementStrategy.Spread)]
    [InlineData("PACK", PlacementStrategy.Pack)]
    public void The_option_names_its_strategy(string value, PlacementStrategy expected)
    {
        var options = new SchedulerOptions { Placement = value };
        options.Validate();
        Assert.Equal(expected, options.PlacementStrategy);
    }

    [Fact]
    public void An_unknown_placement_is_refused_at_start_naming_the_setting_and_the_choices()
    {
        var error = Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => new SchedulerOptions { Placement = "random" }.Validate());
        Assert.Equal("Scheduler:Placement must be 'spread' or 'pack'; got 'random'.", error.Message);
    }

    private static string PlacedOn(Plan plan) => Assert.Single(Placements(plan).Values);

    private static Dictionary<string, string> Placements(Plan plan) =>
        plan.Writes.Where(w => w.Kind == WriteKind.Place).ToDictionary(w => w.JobId!, w => w.Detail);
}
