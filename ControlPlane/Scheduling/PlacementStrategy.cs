namespace ControlPlane.Director.Scheduling;

/// <summary>Which of the ready workers with room that suit a job it goes to (<see cref="SchedulerOptions.Placement"/>).</summary>
public enum PlacementStrategy
{
    /// <summary>The least loaded (slots used ÷ slots), ties to the lowest worker id: load evens out.</summary>
    Spread,

    /// <summary>The most loaded that still has room, ties to the lowest worker id: whole workers stay free.</summary>
    Pack,
}

/// <summary>The configuration names of <see cref="PlacementStrategy"/>.</summary>
public static class PlacementStrategies
{
    /// <summary>The configuration name of <paramref name="strategy"/>: <c>spread</c> or <c>pack</c>.</summary>
    public static string Name(PlacementStrategy strategy) => strategy == PlacementStrategy.Pack ? "pack" : "spread";

    /// <summary>The strategy named <paramref name="name"/> (<c>spread</c> or <c>pack</c>, any case), or null.</summary>
    public static PlacementStrategy? TryParse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "spread" => PlacementStrategy.Spread,
        "pack" => PlacementStrategy.Pack,
        _ => null,
    };
}
