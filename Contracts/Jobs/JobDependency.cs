namespace ControlPlane.Contracts.Jobs;

/// <summary>What a dependent job needs of one of its dependencies (<see cref="JobSpec.DependsOn"/>).</summary>
public enum DependencyCondition
{
    /// <summary>The dependency must end <see cref="JobState.Succeeded"/> (the default).</summary>
    Success,

    /// <summary>The dependency must end <see cref="JobState.Failed"/>: a clean-up or alert path.</summary>
    Failure,

    /// <summary>Any final state will do (Succeeded, Failed, Cancelled or Skipped): runs whatever happened.</summary>
    Completion,
}

/// <summary>One dependency of a job: the job it waits for and the outcome it needs.</summary>
public sealed record JobDependency
{
    /// <summary>Id of the job waited for; it must exist when the dependent is submitted. Within a workflow, give
    /// <see cref="Ref"/> instead to name another node of it.</summary>
    public string Job { get; init => field = value ?? ""; } = ""; // an explicit JSON null reads as "" (never a null to crash on)

    /// <summary>Within a workflow (<c>POST /v1/workflows</c>) only: the <c>ref</c> of the node waited for. The director
    /// resolves it to that node's job id, so a stored job names its dependencies by <see cref="Job"/> alone.</summary>
    public string? Ref { get; init; }

    /// <summary>The outcome needed. <value><see cref="DependencyCondition.Success"/>.</value></summary>
    public DependencyCondition On { get; init; } = DependencyCondition.Success;

    /// <summary>Whether a dependency that ended in <paramref name="state"/> lets the dependent run. Only meaningful
    /// for a final state.</summary>
    public bool IsSatisfiedBy(JobState state) => On switch
    {
        DependencyCondition.Success => state == JobState.Succeeded,
        DependencyCondition.Failure => state == JobState.Failed,
        _ => state.IsTerminal(),
    };
}
