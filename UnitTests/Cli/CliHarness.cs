using ControlPlane.Cli;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Cli;

/// <summary>What one cpctl run printed and returned.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error);

/// <summary>
/// Runs cpctl in-process against a <see cref="FakeApi"/>, on a manual clock: each poll delay advances the clock
/// instead of sleeping, and is recorded so tests can check the backoff.
/// </summary>
internal sealed class CliHarness
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public CliHarness(Func<RecordedRequest, HttpResponseMessage> respond) => Api = new FakeApi(respond);

    public FakeApi Api { get; }

    public ManualTimeProvider Time { get; } = new(Start);

    public List<TimeSpan> Delays { get; } = [];

    public Dictionary<string, string> Variables { get; } = [];

    /// <summary>What cpctl reads from standard input (<c>-f -</c>).</summary>
    public string Input { get; set; } = "";

    /// <summary>Whether <paramref name="request"/> opens the event stream.</summary>
    public static bool IsEvents(RecordedRequest request) => request.Uri.AbsolutePath == "/v1/events";

    /// <summary>404 for the event stream (a director without it), null for anything else: for responders that poll.</summary>
    public static HttpResponseMessage? NoEvents(RecordedRequest request) =>
        IsEvents(request) ? FakeApi.Problem(System.Net.HttpStatusCode.NotFound, "Not found.") : null;

    /// <summary>A <c>text/event-stream</c> answer with exactly this body.</summary>
    public static HttpResponseMessage Events(string body) => FakeApi.Raw(body, System.Net.HttpStatusCode.OK, "text/event-stream");

    public async Task<CliRun> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var environment = new CliEnvironment
        {
            Out = output,
            Error = error,
            GetVariable = name => Variables.GetValueOrDefault(name),
            OpenInput = () => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Input)),
            // The client disposes its handler; the harness keeps the fake for the assertions.
            CreateHandler = () => new NonDisposingHandler(Api),
            Time = Time,
            Delay = (delay, _) =>
            {
                Delays.Add(delay);
                Time.Advance(delay);
                return Task.CompletedTask;
            },
        };
        var code = await CliApp.RunAsync(args, environment);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>A job view as the director would return it.</summary>
    public static JobView Job(string id, JobState state, int attempt = 1, string? worker = null, string? name = null) => new()
    {
        Id = id,
        Spec = new JobSpec { Executor = "shell", Command = ["/bin/echo", "hi"], Name = name },
        State = state,
        Attempt = attempt,
        WorkerId = worker,
        Epoch = 7,
        CreatedAt = Start.AddMinutes(-5),
        Revision = 42,
    };

    private sealed class NonDisposingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // Leave the inner fake alive: one harness serves several runs.
        }
    }
}
