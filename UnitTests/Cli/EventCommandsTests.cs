using System.Net;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.UnitTests.Cli;

/// <summary><c>cpctl watch</c>, <c>wait</c> on the event stream, and <c>undrain</c>, against a fake director.</summary>
public sealed class EventCommandsTests
{
    private const string A = "0193a1b2c3d4e5f60718293a4b5c6d01";

    [Fact]
    public async Task Wait_follows_the_event_stream_from_the_revision_of_its_first_read()
    {
        var cli = new CliHarness(r => CliHarness.IsEvents(r)
            ? CliHarness.Events(": events from revision 40\n\n" + JobEvent(41, JobState.Running) + ": keepalive\n\n" + JobEvent(42, JobState.Succeeded))
            : FakeApi.Json(CliHarness.Job(A, JobState.Pending) with { Revision = 40 }));

        var run = await cli.RunAsync("wait", A);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([$"/v1/jobs/{A}", $"/v1/events?type=job&job={A}"], cli.Api.Requests.Select(r => r.PathAndQuery));
        Assert.Equal("40", cli.Api.Requests[1].Headers["Last-Event-ID"]);
        Assert.Empty(cli.Delays);
        Assert.Contains("Succeeded", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_rereads_the_jobs_after_a_resync()
    {
        var reads = 0;
        var cli = new CliHarness(r => CliHarness.IsEvents(r)
            ? CliHarness.Events("id: 90\nevent: resync\ndata: {\"type\":\"resync\",\"revision\":90,\"reason\":\"history gone\"}\n\n")
            : FakeApi.Json(CliHarness.Job(A, ++reads == 1 ? JobState.Pending : JobState.Succeeded) with { Revision = 40 }));

        var run = await cli.RunAsync("wait", A);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task Watch_prints_a_line_per_event_and_resumes_with_the_last_id_when_the_stream_ends()
    {
        var opened = 0;
        var cli = new CliHarness(r => ++opened == 1
            ? CliHarness.Events(JobEvent(41, JobState.Running) + WorkerEvent(43))
            : FakeApi.Problem(HttpStatusCode.BadRequest, "The request is invalid.", "stop here"));

        var run = await cli.RunAsync("watch", "--type", "job,worker", "--state", "Running");

        Assert.Equal(1, run.ExitCode);
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("41", lines[0], StringComparison.Ordinal);
        Assert.Contains($"job      {A}  Running", lines[0], StringComparison.Ordinal);
        Assert.Contains("w-1  ready  slots 1/2", lines[1], StringComparison.Ordinal);
        Assert.Equal("/v1/events?state=Running&type=job%2Cworker", cli.Api.Requests[0].PathAndQuery);
        Assert.False(cli.Api.Requests[0].Headers.ContainsKey("Last-Event-ID"));
        Assert.Equal("43", cli.Api.Requests[1].Headers["Last-Event-ID"]);
    }

    [Fact]
    public async Task Watch_with_json_output_prints_the_data_lines_as_sent()
    {
        var opened = 0;
        var cli = new CliHarness(r => ++opened == 1
            ? CliHarness.Events(JobEvent(41, JobState.Running))
            : FakeApi.Problem(HttpStatusCode.BadRequest, "The request is invalid."));

        var run = await cli.RunAsync("watch", "-o", "json", "--since", "7");

        Assert.Equal(Data(41, JobState.Running), run.Out.Split('\n')[0]);
        Assert.Equal("7", cli.Api.Requests[0].Headers["Last-Event-ID"]);
    }

    [Fact]
    public async Task Undrain_posts_to_the_workers_undrain()
    {
        var cli = new CliHarness(_ => new HttpResponseMessage(HttpStatusCode.Accepted));

        var run = await cli.RunAsync("undrain", "w-1");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(cli.Api.Requests);
        Assert.Equal((HttpMethod.Post, "/v1/workers/w-1/undrain"), (request.Method, request.PathAndQuery));
        Assert.Contains("drain taken back: w-1", run.Out, StringComparison.Ordinal);
    }

    private static string Data(long revision, JobState state)
    {
        var job = Encoding.UTF8.GetString(ContractJson.Serialize(CliHarness.Job(A, state) with { Revision = revision }));
        return $"{{\"type\":\"job\",\"revision\":{revision},\"id\":\"{A}\",\"deleted\":false,\"version\":2,\"job\":{job}}}";
    }

    private static string JobEvent(long revision, JobState state) => $"id: {revision}\nevent: job\ndata: {Data(revision, state)}\n\n";

    private static string WorkerEvent(long revision) =>
        $"id: {revision}\nevent: worker\ndata: {{\"type\":\"worker\",\"revision\":{revision},\"id\":\"w-1\",\"deleted\":false,\"version\":1,\"worker\":{{\"id\":\"w-1\",\"slots\":2,\"slotsUsed\":1,\"state\":\"ready\"}}}}\n\n";
}
