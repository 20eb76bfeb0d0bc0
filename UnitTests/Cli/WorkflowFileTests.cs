using ControlPlane.Cli.Parsing;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.UnitTests.Cli;

/// <summary>The example workflows under <c>examples/</c>, which docs/cpctl.md and the quickstart submit.</summary>
public sealed class WorkflowFileTests
{
    [Fact]
    public void The_etl_example_is_a_diamond_that_cpctl_reads_and_the_directors_validation_accepts()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "examples", "etl-diamond.json");

        var spec = WorkflowFile.Parse(File.ReadAllBytes(path), path);

        Assert.Empty(WorkflowValidator.Validate(spec));
        Assert.Equal(["extract", "transform-a", "transform-b", "load"], spec.Jobs.Select(n => n.Ref));
        var after = spec.Jobs.ToDictionary(n => n.Ref, n => (n.Job.DependsOn ?? []).Select(d => (d.Ref, d.On)).ToList(), StringComparer.Ordinal);
        Assert.Empty(after["extract"]);
        Assert.Equal([("extract", DependencyCondition.Success)], after["transform-a"]);
        Assert.Equal([("extract", DependencyCondition.Success)], after["transform-b"]);
        Assert.Equal([("transform-a", DependencyCondition.Success), ("transform-b", DependencyCondition.Success)], after["load"]);
        // Runnable by the quickstart's agents, whose shell executor allows /bin/echo and /bin/sh only.
        Assert.All(spec.Jobs, n => Assert.Equal(("shell", "/bin/sh"), (n.Job.Executor, n.Job.Command![0])));
    }
}
