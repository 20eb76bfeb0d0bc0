using System.Globalization;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Rendering;

/// <summary>Jobs as tables (<c>list</c>, <c>wait</c>, <c>submit</c>) and as a detail page (<c>get</c>).</summary>
internal static class JobRendering
{
    /// <summary>One row per job: id, state, attempt, worker, executor, name, age.</summary>
    public static void WriteTable(TextWriter writer, IEnumerable<JobView> jobs, DateTimeOffset now)
    {
        var table = new Table("ID", "STATE", "ATTEMPT", "WORKER", "EXECUTOR", "NAME", "AGE");
        foreach (var job in jobs)
        {
            table.Add(job.Id, StateText(job), AttemptText(job), job.WorkerId, job.Spec.Executor, job.Spec.Name, Ages.Since(job.CreatedAt, now));
        }

        table.WriteTo(writer);
    }

    /// <summary>The state, marked when a cancellation is on its way (one token, so columns stay split by blanks).</summary>
    public static string StateText(JobView job) =>
        job.CancelRequested && !job.State.IsTerminal() ? $"{job.State}/cancelling" : job.State.ToString();

    /// <summary>Every field of one job, one per line, the output tail last.</summary>
    public static void WriteDetail(TextWriter writer, JobView job, DateTimeOffset now)
    {
        var c = CultureInfo.InvariantCulture;
        var spec = job.Spec;
        var lines = new List<(string Key, string? Value)>
        {
            ("id", job.Id),
            ("name", spec.Name),
            ("workflow", job.WorkflowId is { } workflow ? (job.WorkflowRef is { } nodeRef ? $"{workflow} (ref {nodeRef})" : workflow) : null),
            ("state", StateText(job)),
            ("waitingFor", job.WaitingFor),
            ("notBefore", job.NotBefore is { } nb ? When(nb, now) : null),
            ("dependsOn", spec.DependsOn is { Count: > 0 } deps ? string.Join(", ", deps.Select(d => $"{d.Job} ({d.On.ToString().ToLowerInvariant()})")) : null),
            ("attempt", $"{AttemptText(job)} (epoch {job.Epoch.ToString(c)})"),
            ("worker", job.WorkerId),
            ("executor", spec.Executor),
            ("command", spec.Command is { } argv ? ShellQuoting.Join(argv) : null),
            ("args", spec.Args is { } args ? args.GetRawText() : null),
            ("env", Pairs(spec.Env)),
            ("workingDirectory", spec.WorkingDirectory),
            ("constraints", Pairs(spec.Constraints)),
            ("group", spec.Group),
            ("concurrency", spec.Concurrency is { } k ? $"{k.Key} (limit {k.Limit.ToString(c)})" : null),
            ("priority", spec.Priority.ToString(c)),
            ("slots", spec.Slots.ToString(c)),
            ("timeout", spec.TimeoutSeconds is { } t ? Ages.Format(TimeSpan.FromSeconds(t)) : null),
            ("created", When(job.CreatedAt, now)),
            ("assigned", job.AssignedAt is { } a ? When(a, now) : null),
            ("started", job.StartedAt is { } s ? When(s, now) : null),
            ("finished", job.FinishedAt is { } f ? When(f, now) : null),
            ("exitCode", job.ExitCode?.ToString(c)),
            ("error", job.Error),
            ("revision", job.Revision.ToString(c)),
        };

        // Unset optional fields are left out: a shell job has no args, a new job no worker.
        foreach (var (key, value) in lines.Where(l => !string.IsNullOrEmpty(l.Value)))
        {
            writer.WriteLine($"{key + ":",-18}{value}");
        }

        if (!string.IsNullOrEmpty(job.Output))
        {
            writer.WriteLine("output:");
            foreach (var line in job.Output.TrimEnd('\n').Split('\n'))
            {
                writer.WriteLine("  " + line.TrimEnd('\r'));
            }
        }
    }

    private static string AttemptText(JobView job) =>
        string.Create(CultureInfo.InvariantCulture, $"{job.Attempt}/{job.Spec.MaxAttempts}");

    /// <summary>A time in UTC to the second and how long ago it was: <c>2026-03-01T11:59:30Z (30s ago)</c>.</summary>
    public static string When(DateTimeOffset time, DateTimeOffset now) =>
        $"{time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} ({Ages.Since(time, now)} ago)";

    private static string? Pairs(IReadOnlyDictionary<string, string>? map) =>
        map is null || map.Count == 0 ? null : string.Join(", ", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}
