using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>What the leader records about jobs it could not place (per class, never per job), and how the report
/// behind <c>GET /v1/jobs/{id}/explain</c> counts the workers and stays bounded.</summary>
public sealed class PlacementReportTests
{
    private static readonly Dictionary<string, string> Gpu = new() { ["gpu"] = "1" };

    [Fact]
    public void A_class_no_worker_fits_is_recorded_once_with_its_jobs_and_each_worker_counted_where_it_drops_out()
    {
        var f = new PlannerFixture();
        f.Worker("no-executor", executors: ["other"], labels: Gpu);
        f.Worker("no-feature", features: [Protocol.Features.Cancel], labels: Gpu);
        f.Worker("no-label", labels: new() { ["gpu"] = "0" });
        f.Worker("suspect", labels: Gpu, suspect: true);
        f.Worker("draining", labels: Gpu, drainRequested: true);
        var full = f.Worker("full", slots: 1, labels: Gpu);
        f.Running(full);
        var spec = new JobSpec { Executor = "sleep", Constraints = Gpu, TimeoutSeconds = 60 };
        for (var i = 0; i < 3; i++)
        {
            f.Job(spec);
        }

        var state = f.Build();
        var plan = new Planner(f.Options).PlanPass(state, f.Epoch, f.Now);

        var (requirement, jobs) = Assert.Single(plan.SetAside);
        Assert.Equal((requirement.Executor, jobs), ("sleep", 3));
        var report = PlacementReport.Build(state, plan);
        var c = Assert.Single(report.Unplaced);
        Assert.Equal((3, 6, 1, 1, 1, 1, 1, 0, 1, 0), (c.Jobs, c.Workers, c.WithoutExecutor, c.WithoutFeatures, c.WithoutLabels, c.Suspect, c.Draining, c.OtherProtocol, c.Full, c.MostFree));
        Assert.Equal(new Dictionary<string, int> { ["timeout"] = 1 }, c.MissingFeatures);
        Assert.Equal(new Dictionary<string, int> { ["gpu=1"] = 1 }, c.MissingLabels);
        Assert.Equal(Gpu, c.Constraints);
        Assert.Equal(0, report.UnplacedOmitted);
    }

    [Fact]
    public void Many_waiting_jobs_of_one_class_cost_one_record_and_a_placeable_queue_reports_nothing()
    {
        var f = new PlannerFixture();
        f.Worker("w", slots: 1, executors: ["sleep"]);
        for (var i = 0; i < 500; i++)
        {
            f.Job(new JobSpec { Executor = "shell-less" });
        }

        f.Job(new JobSpec { Executor = "sleep" });
        var state = f.Build();
        var plan = new Planner(f.Options).PlanPass(state, f.Epoch, f.Now);

        var (requirement, jobs) = Assert.Single(plan.SetAside);
        Assert.Equal(("shell-less", 500), (requirement.Executor, jobs));
        var c = Assert.Single(PlacementReport.Build(state, plan).Unplaced);
        Assert.Equal((500, 1, 1), (c.Jobs, c.Workers, c.WithoutExecutor));

        var placeable = new PlannerFixture();
        placeable.Worker("w");
        placeable.Job();
        var quiet = placeable.Build();
        Assert.Same(QueueExplanation.None, PlacementReport.Build(quiet, new Planner(placeable.Options).PlanPass(quiet, placeable.Epoch, placeable.Now)));
    }

    [Fact]
    public void The_report_lists_the_largest_classes_within_its_bounds_and_counts_the_rest()
    {
        var f = new PlannerFixture();
        f.Worker("w");
        for (var i = 0; i < 100; i++)
        {
            // Long label values: the byte bound, not only the count, has to hold.
            var spec = new JobSpec { Executor = "sleep", Constraints = new Dictionary<string, string> { ["zone"] = i.ToString("d3", System.Globalization.CultureInfo.InvariantCulture) + new string('x', 2000) } };
            for (var j = 0; j <= i % 5; j++)
            {
                f.Job(spec);
            }
        }

        var state = f.Build();
        var plan = new Planner(f.Options).PlanPass(state, f.Epoch, f.Now);
        var report = PlacementReport.Build(state, plan);

        Assert.Equal(100, plan.SetAside.Count);
        Assert.InRange(report.Unplaced.Count, 1, QueueStatusRecord.MaxUnplaced);
        Assert.Equal(100, report.Unplaced.Count + report.UnplacedOmitted);
        Assert.True(ContractJson.Serialize(report.Unplaced).Length <= QueueStatusRecord.MaxExplainBytes);
        Assert.All(report.Unplaced, c => Assert.Equal(5, c.Jobs));
    }

    [Fact]
    public void A_fifo_group_with_jobs_behind_its_head_is_reported_with_the_head_and_whether_it_is_out()
    {
        var f = new PlannerFixture();
        var w = f.Worker("w");
        var (first, _) = f.Running(w, new JobSpec { Executor = "sleep", Group = "nightly" });
        f.Job(new JobSpec { Executor = "sleep", Group = "nightly" });
        f.Job(new JobSpec { Executor = "sleep", Group = "nightly" });
        f.Job(new JobSpec { Executor = "sleep", Group = "alone" });
        var state = f.Build();
        var plan = new Planner(f.Options).PlanPass(state, f.Epoch, f.Now);

        var report = PlacementReport.Build(state, plan);

        var head = Assert.Single(report.GroupHeads);
        Assert.Equal("nightly", head.Key);
        Assert.Equal((first.Record.Id, true, 2), (head.Value.Job, head.Value.Out, head.Value.Pending));
    }
}
