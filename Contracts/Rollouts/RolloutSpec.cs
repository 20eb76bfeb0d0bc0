namespace ControlPlane.Contracts.Rollouts;

/// <summary>The body of <c>POST /v1/cells/{cell}/rollouts</c>: a feature to switch on for a growing share of the cell's agents.</summary>
public sealed record RolloutSpec
{
    /// <summary>Default <see cref="Steps"/>.</summary>
    public static IReadOnlyList<int> DefaultSteps { get; } = [10, 50, 100];

    /// <summary>Default <see cref="Margin"/>.</summary>
    public const double DefaultMargin = 0.1;

    /// <summary>Default <see cref="MinJobs"/>.</summary>
    public const int DefaultMinJobs = 20;

    /// <summary>Default <see cref="StepSeconds"/>.</summary>
    public const double DefaultStepSeconds = 300;

    /// <summary>The feature (<see cref="RolloutShares.FeatureProblem"/>). Required.</summary>
    public string? Feature { get; init; }

    /// <summary>Shares in percent, strictly increasing from at least 1, ending at 100; at most 20. <value>[10, 50, 100].</value></summary>
    public IReadOnlyList<int>? Steps { get; init; }

    /// <summary>How much higher (0 to 1) the failure rate on agents with the feature may be. <value>0.1.</value></summary>
    public double? Margin { get; init; }

    /// <summary>Finished jobs each group needs in a step before it is judged, 1 to 100,000. <value>20.</value></summary>
    public int? MinJobs { get; init; }

    /// <summary>Least seconds per step, 1 to 604,800 (a week). <value>300.</value></summary>
    public double? StepSeconds { get; init; }

    /// <summary>Who starts it, for the record (cpctl sends the user's name); at most 128 characters. Optional.</summary>
    public string? By { get; init; }

    /// <summary>Every problem of this spec, each naming its field; empty when it is valid.</summary>
    public IReadOnlyList<(string Field, string Message)> Problems()
    {
        var problems = new List<(string, string)>();
        if (RolloutShares.FeatureProblem(Feature) is { } feature)
        {
            problems.Add(("feature", feature));
        }

        if (Steps is { } steps)
        {
            if (steps.Count is 0 or > 20)
            {
                problems.Add(("steps", $"Between 1 and 20 steps; got {steps.Count}."));
            }
            else if (steps[0] < 1 || steps.Zip(steps.Skip(1)).Any(p => p.Second <= p.First) || steps[^1] != 100)
            {
                problems.Add(("steps", $"Percentages strictly increasing from at least 1 and ending at 100; got [{string.Join(", ", steps)}]."));
            }
        }

        if (Margin is { } margin && (double.IsNaN(margin) || margin is < 0 or > 1))
        {
            problems.Add(("margin", $"A failure-rate difference between 0 and 1; got {margin}."));
        }

        if (MinJobs is { } minJobs && minJobs is < 1 or > 100_000)
        {
            problems.Add(("minJobs", $"Between 1 and 100000; got {minJobs}."));
        }

        if (StepSeconds is { } seconds && (double.IsNaN(seconds) || seconds is < 1 or > 604_800))
        {
            problems.Add(("stepSeconds", $"Between 1 and 604800 seconds; got {seconds}."));
        }

        if (By is { Length: > 128 })
        {
            problems.Add(("by", $"At most 128 characters; got {By.Length}."));
        }

        return problems;
    }
}

/// <summary>A rollout as the API shows it: the record, its cell, and which of the cell's live agents advertise the feature.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Rollout">The record.</param>
/// <param name="Share">The percentage of the cell's agents the rollout gives the feature now (<see cref="RolloutRecord.Share"/>).</param>
/// <param name="Agents">Live agents in the cell.</param>
/// <param name="AgentsWithFeature">Those whose registration advertises the feature now, by id.</param>
public sealed record RolloutView(string Cell, RolloutRecord Rollout, int Share, int Agents, IReadOnlyList<string> AgentsWithFeature);
