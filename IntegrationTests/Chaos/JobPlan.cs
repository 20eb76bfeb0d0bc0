using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>One job the workload submits, and how it must end.</summary>
/// <param name="Index">Position in the workload.</param>
/// <param name="Kind">What sort of job (for reports).</param>
/// <param name="Spec">What is submitted; its name is unique, so duplicates are found by name.</param>
/// <param name="Expected">The terminal state it must reach.</param>
/// <param name="IdempotencyKey">Sent with every try when not null; such a job is retried until accepted.</param>
public sealed record JobPlan(int Index, string Kind, JobSpec Spec, JobState Expected, string? IdempotencyKey)
{
    /// <summary>Many attempts: faults cost attempts (a lost worker counts as one), and a job that should succeed must
    /// not run out of them in a long run. Designed failures take 2.</summary>
    public const int Attempts = 40;

    private const int Groups = 4;

    /// <summary>The whole workload, drawn from <paramref name="random"/>: sleep handlers and shell sleeps of 0.05–0.5 s
    /// (some of 1.5–4.5 s), shell jobs designed to fail (5 %) or to fail only on attempt 1 (5 %), FIFO groups (23 %),
    /// and about a third of the ungrouped jobs submitted with an Idempotency-Key. With several
    /// <paramref name="cells"/>, a third of the ungrouped jobs name a cell drawn at random and the others are routed by
    /// the director that accepts them; each FIFO group names a cell of its own (the cells in turn), since a group's
    /// order holds within one cell.</summary>
    public static IReadOnlyList<JobPlan> Draw(Random random, int count, string runId, IReadOnlyList<string>? cells = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        cells ??= [Contracts.Cells.Default];
        var plans = new List<JobPlan>(count);
        for (var i = 0; i < count; i++)
        {
            var name = $"chaos-{runId}-{i}";
            var roll = random.Next(100);
            var seconds = (0.05 + (random.NextDouble() * 0.45)).ToString("0.00", CultureInfo.InvariantCulture);
            JobPlan plan = roll switch
            {
                < 47 => new(i, "sleep", Sleep(name, seconds), JobState.Succeeded, null),
                // Long enough that kills and partitions catch them running: what the overlap check is about.
                < 55 => new(i, "sleep-long", Sleep(name, Long(random)), JobState.Succeeded, null),
                < 63 => new(i, "shell", Shell(name, $"sleep {seconds}", Attempts), JobState.Succeeded, null),
                < 67 => new(i, "shell-long", Shell(name, $"sleep {Long(random)}", Attempts), JobState.Succeeded, null),
                < 72 => new(i, "shell-fails", Shell(name, "echo designed to fail; exit 3", 2), JobState.Failed, null),
                < 77 => new(i, "shell-retries", Shell(name, "test \"$CP_ATTEMPT\" -ge 2", Attempts), JobState.Succeeded, null),
                // Group jobs are never keyed: their order is checked by the creation revision a 201 returns.
                _ => new(i, "fifo", Sleep(name, seconds) with { Group = $"fifo-{runId}-{random.Next(Groups)}" }, JobState.Succeeded, null),
            };
            if (plan.Spec.Group is null && random.Next(3) == 0)
            {
                plan = plan with { IdempotencyKey = $"key-{runId}-{i}" };
            }

            if (cells.Count > 1)
            {
                var cell = plan.Spec.Group is { } group
                    ? cells[int.Parse(group.AsSpan(group.LastIndexOf('-') + 1), CultureInfo.InvariantCulture) % cells.Count]
                    : random.Next(3) == 0 ? cells[random.Next(cells.Count)] : null;
                plan = plan with { Spec = plan.Spec with { Cell = cell } };
            }

            plans.Add(plan);
        }

        return plans;
    }

    private static string Long(Random random) => (1.5 + (random.NextDouble() * 3)).ToString("0.0", CultureInfo.InvariantCulture);

    private static JobSpec Sleep(string name, string seconds) => new()
    {
        Name = name,
        Executor = "sleep",
        Args = JsonDocument.Parse($$"""{"seconds":{{seconds}}}""").RootElement,
        MaxAttempts = Attempts,
    };

    private static JobSpec Shell(string name, string script, int attempts) => new()
    {
        Name = name,
        Executor = "shell",
        Command = ["/bin/sh", "-c", script],
        MaxAttempts = attempts,
    };
}
