using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.UnitTests.Director;

/// <summary>What <c>POST /v1/workflows</c> refuses before anything is written, each problem naming its field, and how a
/// valid workflow becomes jobs (issue 19).</summary>
public sealed class WorkflowValidatorTests
{
    private const string Existing = "0123456789abcdef0123456789abcdef";

    private static WorkflowNode Node(string nodeRef, params string[] after) => new()
    {
        Ref = nodeRef,
        Job = new JobSpec
        {
            Executor = "echo",
            DependsOn = after.Length == 0 ? null : [.. after.Select(a => a.Length == JobIds.Length ? new JobDependency { Job = a } : new JobDependency { Ref = a })],
        },
    };

    private static IReadOnlyList<FieldError> Validate(params WorkflowNode[] nodes) => WorkflowValidator.Validate(new WorkflowSpec { Jobs = [.. nodes] });

    [Fact]
    public void A_diamond_with_a_job_named_by_id_is_valid()
    {
        Assert.Empty(Validate(Node("a", Existing), Node("b", "a"), Node("c", "a"), Node("d", "b", "c")));
    }

    [Fact]
    public void A_ref_to_a_missing_node_is_named_by_its_field()
    {
        var error = Assert.Single(Validate(Node("a"), Node("b", "nope")));
        Assert.Equal("jobs[1].job.dependsOn[0].ref", error.Field);
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cycle_is_refused_naming_its_nodes_in_order()
    {
        var error = Assert.Single(Validate(Node("start"), Node("x", "start", "z"), Node("y", "x"), Node("z", "y"), Node("after", "z")));
        Assert.StartsWith("jobs[", error.Field, StringComparison.Ordinal);
        Assert.EndsWith(".ref", error.Field, StringComparison.Ordinal);
        Assert.Matches("cycle: (x → z → y → x|y → x → z → y|z → y → x → z)", error.Message);
    }

    [Fact]
    public void A_node_depending_on_itself_is_refused()
    {
        Assert.Equal("jobs[0].job.dependsOn[0].ref", Assert.Single(Validate(Node("a", "a"))).Field);
    }

    [Theory]
    [InlineData("", "jobs[0].ref")]
    [InlineData("has space", "jobs[0].ref")]
    public void A_bad_ref_is_refused(string nodeRef, string field)
    {
        Assert.Equal(field, Assert.Single(Validate(Node(nodeRef))).Field);
    }

    [Fact]
    public void Duplicate_refs_an_empty_workflow_and_a_bad_job_are_named()
    {
        Assert.Equal("jobs[1].ref", Assert.Single(Validate(Node("a"), Node("a"))).Field);
        Assert.Equal("jobs", Assert.Single(Validate()).Field);
        var bad = new WorkflowNode { Ref = "a", Job = new JobSpec { Executor = "" } };
        Assert.Equal("jobs[0].job.executor", Assert.Single(Validate(bad)).Field);
        Assert.Equal("jobs", Assert.Single(Validate([.. Enumerable.Range(0, Limits.MaxWorkflowNodes + 1).Select(i => Node($"n{i}"))])).Field);
    }

    [Fact]
    public void A_ref_outside_a_workflow_and_a_dependency_with_both_job_and_ref_are_refused()
    {
        var plain = new JobSpec { Executor = "echo", DependsOn = [new JobDependency { Ref = "a" }] };
        Assert.Equal("dependsOn[0].ref", Assert.Single(JobSpecValidator.Validate(plain)).Field);

        var both = new JobSpec { Executor = "echo", DependsOn = [new JobDependency { Ref = "a", Job = Existing }] };
        Assert.Equal("dependsOn[0]", Assert.Single(JobSpecValidator.Validate(both, inWorkflow: true)).Field);
    }

    [Fact]
    public void A_ref_with_an_explicit_null_job_is_judged_by_its_ref_not_a_crash()
    {
        // {"ref": "a", "job": null}: the serializer leaves Job null despite its annotation.
        var b = new WorkflowNode { Ref = "b", Job = new JobSpec { Executor = "echo", DependsOn = [new JobDependency { Ref = "a", Job = null! }] } };
        Assert.Empty(Validate(Node("a"), b));
        var parsed = ContractJson.Deserialize<WorkflowSpec>("""{"jobs":[{"ref":"a","job":{"executor":"echo"}},{"ref":"b","job":{"executor":"echo","dependsOn":[{"ref":"a","job":null}]}}]}"""u8);
        Assert.Empty(WorkflowValidator.Validate(parsed));
    }

    [Fact]
    public void Resolving_gives_each_node_a_derived_job_id_and_turns_refs_into_those_ids()
    {
        var spec = new WorkflowSpec { Jobs = [Node("a", Existing), Node("b", "a")] };

        var jobs = WorkflowValidator.Resolve(spec, "wf");

        Assert.Equal([WorkflowIds.NodeJobId("wf", 0), WorkflowIds.NodeJobId("wf", 1)], jobs.Select(j => j.JobId));
        Assert.True(JobIds.IsValid(jobs[0].JobId));
        Assert.Equal(Existing, Assert.Single(jobs[0].Spec.DependsOn!).Job);
        var resolved = Assert.Single(jobs[1].Spec.DependsOn!);
        Assert.Equal((jobs[0].JobId, (string?)null), (resolved.Job, resolved.Ref));
        Assert.Equal(WorkflowIds.ForKey("k"), WorkflowIds.ForKey("k"));
        Assert.NotEqual(WorkflowIds.ForKey("k"), WorkflowIds.ForKey("k2"));
    }
}
