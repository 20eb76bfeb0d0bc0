using System.Globalization;
using System.Text.Json;

namespace ControlPlane.Agents.Handlers;

/// <summary><c>sleep</c>: waits <c>{"seconds": n}</c> (default 1), then ends with <c>exitCode</c> (default 0).</summary>
internal sealed class SleepHandler(TimeProvider time) : IJobHandler
{
    public const string Name = "sleep";

    public async Task<JobResult> RunAsync(JobContext context, CancellationToken cancellationToken)
    {
        var seconds = 1.0;
        var exitCode = 0;
        if (context.Args is { ValueKind: JsonValueKind.Object } args)
        {
            if (args.TryGetProperty("seconds", out var s) && s.ValueKind == JsonValueKind.Number)
            {
                seconds = Math.Clamp(s.GetDouble(), 0, TimeSpan.FromDays(7).TotalSeconds);
            }

            if (args.TryGetProperty("exitCode", out var e) && e.ValueKind == JsonValueKind.Number)
            {
                exitCode = e.GetInt32();
            }
        }

        context.ReportProgress(string.Create(CultureInfo.InvariantCulture, $"sleeping {seconds} s"));
        // Not a retry: waiting is this handler's job (the job asked to sleep that long).
        await Task.Delay(TimeSpan.FromSeconds(seconds), time, cancellationToken).ConfigureAwait(false);
        return exitCode == 0
            ? JobResult.Success(string.Create(CultureInfo.InvariantCulture, $"slept {seconds} s"))
            : JobResult.Failure(string.Create(CultureInfo.InvariantCulture, $"exit code {exitCode} as asked"), exitCode);
    }
}

/// <summary><c>echo</c>: succeeds at once with its <c>args</c> (JSON text) as output.</summary>
internal sealed class EchoHandler : IJobHandler
{
    public const string Name = "echo";

    public Task<JobResult> RunAsync(JobContext context, CancellationToken cancellationToken) =>
        Task.FromResult(JobResult.Success(context.Args?.GetRawText() ?? ""));
}
