using System.Globalization;
using ControlPlane.Contracts.Rollouts;

namespace ControlPlane.Director.Scheduling;

/// <summary>What the leader does with a running rollout's current step.</summary>
internal enum RolloutVerdict
{
    /// <summary>Not yet judged: too few jobs, or the step's time has not passed.</summary>
    Wait,

    /// <summary>Healthy for its whole step: on to the next share (or completed at the last).</summary>
    Advance,

    /// <summary>Jobs fail more often on the agents with the feature than the margin allows: switch it off.</summary>
    Halt,
}

/// <summary>A judgement of one step, with why.</summary>
/// <param name="Verdict">What to do.</param>
/// <param name="Reason">Why, for logs and the record.</param>
internal readonly record struct RolloutDecision(RolloutVerdict Verdict, string Reason);

/// <summary>
/// Every state change of a rollout record (docs/cells.md, "Progressive feature rollout"), in one place: its start and an
/// operator's halt (the API) and the leader's judgement of a step (<see cref="RolloutController"/>). Pure functions of the
/// record, the counts and the time: every rule has a unit test. Whoever applies a transition writes the result conditioned
/// on the version it read, so an operator's halt and a leader's step never overwrite each other.
/// </summary>
internal static class RolloutTransitions
{
    /// <summary>A new rollout from <paramref name="spec"/> (valid: <see cref="RolloutSpec.Problems"/> is empty) at its first
    /// step; completed at once when that step is 100 %.</summary>
    public static RolloutRecord Start(RolloutSpec spec, string? startedBy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var steps = spec.Steps ?? RolloutSpec.DefaultSteps;
        var record = new RolloutRecord
        {
            Feature = spec.Feature!,
            Steps = [.. steps],
            Margin = spec.Margin ?? RolloutSpec.DefaultMargin,
            MinJobs = spec.MinJobs ?? RolloutSpec.DefaultMinJobs,
            StepSeconds = spec.StepSeconds ?? RolloutSpec.DefaultStepSeconds,
            StartedAt = now,
            StartedBy = startedBy,
            StepStartedAt = now,
        };
        return steps.Count == 1 ? record with { State = RolloutState.Completed, EndedAt = now, Reason = "its only step is 100 %" } : record;
    }

    /// <summary>Judges the current step from the jobs finished in it on agents with the feature (<paramref name="with"/>)
    /// and on the others (<paramref name="without"/>). Each group needs <see cref="RolloutRecord.MinJobs"/> finished jobs;
    /// then the step halts when the failure rate with the feature exceeds the rate without by more than the margin, and
    /// advances once <see cref="RolloutRecord.StepSeconds"/> have passed since it started (a halt does not wait).</summary>
    public static RolloutDecision Judge(RolloutRecord rollout, RolloutCounts with, RolloutCounts without, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(with);
        ArgumentNullException.ThrowIfNull(without);
        if (rollout.State != RolloutState.Running)
        {
            return new(RolloutVerdict.Wait, $"the rollout is {rollout.State}");
        }

        if (with.Finished < rollout.MinJobs || without.Finished < rollout.MinJobs)
        {
            return new(RolloutVerdict.Wait, $"each group needs {rollout.MinJobs} finished jobs; with the feature {with.Finished}, without {without.Finished}");
        }

        var measured = Measured(with, without);
        if (with.FailureRate - without.FailureRate > rollout.Margin)
        {
            return new(RolloutVerdict.Halt, string.Create(CultureInfo.InvariantCulture,
                $"at {rollout.Share} % jobs failed more often on agents with {rollout.Feature} than without by more than the margin {rollout.Margin:0.###}: {measured}"));
        }

        var due = rollout.StepStartedAt + TimeSpan.FromSeconds(rollout.StepSeconds);
        return now < due
            ? new(RolloutVerdict.Wait, string.Create(CultureInfo.InvariantCulture, $"the step lasts until {due:O}; so far {measured}"))
            : new(RolloutVerdict.Advance, string.Create(CultureInfo.InvariantCulture, $"{rollout.Share} % healthy for {rollout.StepSeconds:0.#} s: {measured}"));
    }

    /// <summary>The next step (or completion after the last), with the judged step in the history.</summary>
    public static RolloutRecord Advance(RolloutRecord rollout, RolloutCounts with, RolloutCounts without, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        var next = rollout.Step + 1;
        var last = next >= rollout.Steps.Count - 1;
        var outcome = last ? "completed" : "advanced";
        return rollout with
        {
            Step = Math.Min(next, rollout.Steps.Count - 1),
            StepStartedAt = now,
            State = last ? RolloutState.Completed : RolloutState.Running,
            EndedAt = last ? now : null,
            Reason = last ? $"reached 100 % after {rollout.Steps.Count - 1} healthy steps" : null,
            History = [.. rollout.History, new RolloutStepResult(rollout.Share, rollout.StepStartedAt, now, with, without, outcome)],
        };
    }

    /// <summary>Halted: the feature goes off on every agent. <paramref name="reason"/> says why (the leader's verdict or
    /// "halted by an operator"); the counts are what the halting side knew (none for an operator).</summary>
    public static RolloutRecord Halt(RolloutRecord rollout, string reason, RolloutCounts with, RolloutCounts without, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return rollout with
        {
            State = RolloutState.Halted,
            EndedAt = now,
            Reason = reason,
            History = [.. rollout.History, new RolloutStepResult(rollout.Share, rollout.StepStartedAt, now, with, without, "halted")],
        };
    }

    private static string Measured(RolloutCounts with, RolloutCounts without) => string.Create(CultureInfo.InvariantCulture,
        $"with the feature {with.Failed}/{with.Finished} failed ({with.FailureRate:P1}), without {without.Failed}/{without.Finished} ({without.FailureRate:P1})");
}
