using System.Globalization;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// How long and how hard a chaos run is, from the environment so one build runs both the short version (test.sh)
/// and the long one (scripts/chaos.sh): <c>CP_CHAOS_SEED</c>, <c>CP_CHAOS_SECONDS</c>, <c>CP_CHAOS_JOBS</c>.
/// </summary>
/// <param name="Seed">Seeds every random choice (faults, targets, job mix), so a failing run can be replayed.</param>
/// <param name="Duration">How long faults are injected (jobs are submitted over the same period).</param>
/// <param name="Jobs">How many jobs must be accepted.</param>
public sealed record ChaosSettings(int Seed, TimeSpan Duration, int Jobs)
{
    /// <summary>Default of the short version: long enough for every kind of fault on a busy two-core machine.</summary>
    public const int ShortSeconds = 40;

    /// <summary>Default job count of the short version.</summary>
    public const int ShortJobs = 300;

    /// <summary>Session timeout (ZooKeeper) / lease TTL (etcd) of every director and agent: short, so failovers and
    /// pauses fit in a short run, and within the ZooKeeper fixture's negotiable maximum (20 ticks of 200 ms).</summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(4);

    /// <summary>Reads the settings; a missing variable takes the short default, a new seed is drawn when none is given.</summary>
    /// <exception cref="InvalidOperationException">A variable is set but not a positive integer.</exception>
    public static ChaosSettings FromEnvironment() => new(
        Read("CP_CHAOS_SEED", Random.Shared.Next(1, 1_000_000), allowZero: true),
        TimeSpan.FromSeconds(Read("CP_CHAOS_SECONDS", ShortSeconds)),
        Read("CP_CHAOS_JOBS", ShortJobs));

    /// <summary>How to run this exact chaos again.</summary>
    public string ReplayCommand(string backend) => string.Create(CultureInfo.InvariantCulture,
        $"CP_CHAOS_SEED={Seed} CP_CHAOS_SECONDS={Duration.TotalSeconds:0} CP_CHAOS_JOBS={Jobs} dotnet test IntegrationTests -c Release --filter FullyQualifiedName~{backend}ChaosTests");

    private static int Read(string name, int fallback, bool allowZero = false)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && (value > 0 || allowZero)
            ? value
            : throw new InvalidOperationException($"{name} must be a positive integer; got '{text}'.");
    }
}
