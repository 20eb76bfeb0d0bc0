using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Membership;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Hosting;

/// <summary>
/// A shadow director's life (<c>Director:Mode=shadow</c>, docs/cells.md): it never campaigns and writes no scheduling
/// record. On a store connection of its own (the API's session stays free, as a leader's scheduler connection does) it
/// follows its cell with a <see cref="ShadowFollower"/>, and keeps its report (<see cref="ShadowReport"/>) in the
/// ephemeral record <c>meta/shadows/&lt;cell&gt;/&lt;directorId&gt;</c> on the API's session, rewritten at most once per
/// <see cref="PublishInterval"/> and only when it changed, so any director can list it (<c>GET /v1/cells/{cell}/shadow</c>).
/// </summary>
internal sealed partial class ShadowRuntime
{
    /// <summary>Shortest time between two writes of the report.</summary>
    public static readonly TimeSpan PublishInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a following must have run before a failure of it counts as a first one again.</summary>
    private static readonly TimeSpan HealthyRun = TimeSpan.FromMinutes(5);

    private readonly string _cell;
    private readonly DirectorRecord _director;
    private readonly SchedulerOptions _scheduler;
    private readonly ShadowMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates the runtime; nothing happens until <see cref="RunAsync"/>.</summary>
    public ShadowRuntime(string cell, DirectorRecord director, SchedulerOptions scheduler, ShadowMetrics metrics, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _cell = cell;
        _director = director;
        _scheduler = scheduler;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ShadowRuntime>();
        _time = time;
        Comparison = new ShadowComparison();
    }

    /// <summary>What the shadow decided and compared so far.</summary>
    public ShadowComparison Comparison { get; }

    /// <summary>Follows the cell through <paramref name="followStore"/> and publishes through <paramref name="store"/>
    /// until <paramref name="stoppingToken"/> fires; a following that keeps failing (retry <c>director.shadow</c>) throws.</summary>
    public async Task RunAsync(ICoordinationStore store, ICoordinationStore followStore, CancellationToken stoppingToken)
    {
        var since = _time.GetUtcNow();
        var identity = new ShadowReport
        {
            DirectorId = _director.Id,
            Version = _director.Version,
            Cell = _cell,
            Placement = PlacementStrategies.Name(_scheduler.PlacementStrategy),
            Since = since,
        };
        _metrics.Zero(_cell);
        await using var registration = new MemberRegistration(
            store, StoreLayout.ShadowsOf(_cell), _director.Id, Report(identity), _loggerFactory.CreateLogger<MemberRegistration>(), _time);
        await registration.StartAsync(stoppingToken).ConfigureAwait(false);
        Log.Following(_logger, _cell, identity.Placement);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var publishing = PublishAsync(registration, identity, stop.Token);
        try
        {
            var retry = HostRetries.Shadow.Build(_time, e => e is not OperationCanceledException,
                args => Log.FollowFailed(_logger, args.Outcome.Exception!, _cell, args.AttemptNumber + 1));
            while (!stoppingToken.IsCancellationRequested)
            {
                // The retry's attempts count consecutive failures: a following that had run well for HealthyRun before it
                // failed starts a fresh count (bounded: at most one fresh count per HealthyRun).
                await retry.ExecuteAsync(ct => FollowOnceAsync(followStore, ct), stoppingToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await publishing.ConfigureAwait(false);
        }
    }

    /// <summary>Follows the cell until cancelled or failed; a failure after <see cref="HealthyRun"/> of following returns
    /// (logged) instead of throwing, so the caller starts a fresh count of attempts.</summary>
    private async ValueTask FollowOnceAsync(ICoordinationStore followStore, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var follower = new ShadowFollower(_scheduler, Comparison, _loggerFactory, _time, outcome => _metrics.Compared(_cell, outcome));
        try
        {
            await follower.RunAsync(followStore.ForCell(_cell), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && _time.GetElapsedTime(started) >= HealthyRun)
        {
            Log.FollowFailed(_logger, e, _cell, 1);
        }
    }

    /// <summary>Rewrites the report once per <see cref="PublishInterval"/> when it changed; a failed write is tried at the
    /// next tick (the registration re-creates the record with the latest report after a session loss).</summary>
    private async Task PublishAsync(MemberRegistration registration, ShadowReport identity, CancellationToken cancellationToken)
    {
        var published = 0L;
        using var timer = new PeriodicTimer(PublishInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var changes = Comparison.Changes;
                if (changes == published)
                {
                    continue;
                }

                try
                {
                    await registration.UpdateAsync(Report(identity), cancellationToken).ConfigureAwait(false);
                    published = changes;
                }
                catch (StoreException e)
                {
                    Log.PublishFailed(_logger, e, _cell);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the record goes with the registration.
        }
    }

    private byte[] Report(ShadowReport identity) => ContractJson.Serialize(Comparison.Snapshot(identity with { At = _time.GetUtcNow() }));

    private static partial class Log
    {
        [LoggerMessage(EventId = 861, Level = LogLevel.Information, Message = "Director:Mode is shadow: following cell {Cell} with placement {Placement}; this director never campaigns nor writes scheduling records")]
        public static partial void Following(ILogger logger, string cell, string placement);

        [LoggerMessage(EventId = 862, Level = LogLevel.Error, Message = "Following cell {Cell} as a shadow failed (attempt {Attempt}); starting again")]
        public static partial void FollowFailed(ILogger logger, Exception exception, string cell, int attempt);

        [LoggerMessage(EventId = 863, Level = LogLevel.Warning, Message = "Writing the shadow report of cell {Cell} failed; trying again in a second")]
        public static partial void PublishFailed(ILogger logger, Exception exception, string cell);
    }
}
