using ControlPlane.Agents.Executors;
using ControlPlane.Contracts;

namespace ControlPlane.UnitTests.Agents;

public sealed class TraceContextTests
{
    private const string Parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Theory]
    [InlineData(Parent, "0af7651916cd43dd8448eb211c80319c")]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", null)]
    [InlineData("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null)]
    public void The_trace_id_is_read_from_a_traceparent_and_nothing_else(string? traceParent, string? traceId) =>
        Assert.Equal(traceId, Tracing.TraceIdOf(traceParent));

    [Fact]
    public void A_traced_job_process_gets_TRACEPARENT_unless_its_own_environment_sets_it()
    {
        Assert.Equal([new(Tracing.TraceParentVariable, Parent)], Request(new Dictionary<string, string>(), Parent).TraceVariables);
        Assert.Empty(Request(new Dictionary<string, string> { ["TRACEPARENT"] = "mine" }, Parent).TraceVariables);
        Assert.Empty(Request(new Dictionary<string, string>(), null).TraceVariables);
    }

    private static ExecutionRequest Request(Dictionary<string, string> env, string? traceParent) =>
        new("job", 1, 1, "w", "shell", ["/bin/true"], null, env, null) { TraceParent = traceParent };
}
