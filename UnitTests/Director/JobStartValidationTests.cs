using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Director;

/// <summary>The shapes of <c>runAt</c>, <c>delaySeconds</c> and <c>dependsOn</c> (issue 19); existence is the director's check.</summary>
public sealed class JobStartValidationTests
{
    private static readonly string A = JobIds.New();

    private static IEnumerable<string> Fields(JobSpec spec) => JobSpecValidator.Validate(spec).Select(e => e.Field);

    private static JobSpec Spec(Func<JobSpec, JobSpec> edit) => edit(new JobSpec { Executor = "echo" });

    [Fact]
    public void Well_formed_start_fields_are_accepted()
    {
        Assert.Empty(Fields(Spec(s => s with { RunAt = DateTimeOffset.UnixEpoch })));
        Assert.Empty(Fields(Spec(s => s with { DelaySeconds = 0 })));
        Assert.Empty(Fields(Spec(s => s with
        {
            DelaySeconds = Limits.MaxDelaySeconds,
            DependsOn = [new JobDependency { Job = A }, new JobDependency { Job = JobIds.New(), On = DependencyCondition.Completion }],
        })));
    }

    [Fact]
    public void Each_bad_start_field_is_named()
    {
        Assert.Equal(["delaySeconds"], Fields(Spec(s => s with { RunAt = DateTimeOffset.UnixEpoch, DelaySeconds = 5 })));
        Assert.Equal(["delaySeconds"], Fields(Spec(s => s with { DelaySeconds = -1 })));
        Assert.Equal(["delaySeconds"], Fields(Spec(s => s with { DelaySeconds = Limits.MaxDelaySeconds + 1 })));
        Assert.Equal(["dependsOn[0].job"], Fields(Spec(s => s with { DependsOn = [new JobDependency { Job = "not an id" }] })));
        Assert.Equal(["dependsOn[1].job"], Fields(Spec(s => s with { DependsOn = [new JobDependency { Job = A }, new JobDependency { Job = A }] })));
        Assert.Equal(["dependsOn[0].on"], Fields(Spec(s => s with { DependsOn = [new JobDependency { Job = A, On = (DependencyCondition)7 }] })));
        Assert.Equal(["dependsOn"], Fields(Spec(s => s with
        {
            DependsOn = [.. Enumerable.Range(0, Limits.MaxDependencies + 1).Select(_ => new JobDependency { Job = JobIds.New() })],
        })));
    }

    [Fact]
    public void An_empty_dependency_list_is_normalized_away()
    {
        Assert.Null(JobSpecValidator.Normalize(Spec(s => s with { DependsOn = [] })).DependsOn);
    }

    [Fact]
    public void The_condition_words_parse_from_json_in_lower_case()
    {
        var spec = ContractJson.Deserialize<JobSpec>("""{"executor":"echo","dependsOn":[{"job":"x","on":"failure"},{"job":"y"}]}"""u8);
        Assert.Equal([DependencyCondition.Failure, DependencyCondition.Success], spec.DependsOn!.Select(d => d.On));
    }
}
