namespace ControlPlane.Bench;

/// <summary>A benchmark scenario, run as <c>Bench &lt;Name&gt; [options]</c>.</summary>
internal interface IScenario
{
    /// <summary>The first command-line word that selects this scenario.</summary>
    string Name { get; }

    /// <summary>One line of help shown in the usage text.</summary>
    string Summary { get; }

    /// <summary>Parses the scenario's own options, runs it and returns the process exit code.</summary>
    Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}

/// <summary>Dispatches the command line to a scenario. Scenarios are found by reflection, so adding one
/// is adding a class: no central list to edit.</summary>
internal static class BenchMain
{
    public static async Task<int> RunAsync(string[] args)
    {
        var scenarios = typeof(BenchMain).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IScenario).IsAssignableFrom(t))
            .Select(t => (IScenario)Activator.CreateInstance(t)!)
            .ToDictionary(s => s.Name, StringComparer.Ordinal);

        if (args.Length == 0 || !scenarios.TryGetValue(args[0], out var scenario))
        {
            var list = scenarios.Count == 0
                ? "  (none yet)"
                : string.Join('\n', scenarios.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => $"  {s.Name,-10} {s.Summary}"));
            await Console.Error.WriteLineAsync($"usage: Bench <scenario> [options]\nscenarios:\n{list}").ConfigureAwait(false);
            return 2;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        return await scenario.RunAsync(args[1..], cts.Token).ConfigureAwait(false);
    }
}
