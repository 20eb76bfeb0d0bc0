using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Membership;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Hosting;

/// <summary>
/// The director's background life: once the store is reachable it checks the key layout version, registers the
/// director, campaigns for leadership and, while it leads, runs the scheduler. A watchdog makes a leader whose
/// scheduling loop has stalled resign (its session would otherwise keep it leader forever), then campaign again.
/// On shutdown it resigns, so a successor takes over without waiting for the session to expire.
/// </summary>
/// <remarks>
/// A campaigning director holds two store connections: the main one (the API, membership and the candidacy: the
/// candidate key's lifetime on that session is what leadership means) and one for the scheduler's terms (its caches,
/// reads and fenced writes). ZooKeeper answers one session's requests in order, so a new leader loading its caches on
/// the API's session made submissions wait seconds behind tens of thousands of reads (docs/performance.md). The
/// scheduler's connection is opened once, before campaigning, so a term starts as fast as before.
/// </remarks>
internal sealed partial class DirectorRuntime : BackgroundService
{
    private readonly StoreConnection _connection;
    private readonly DirectorIdentity _director;
    private readonly bool _campaign;
    private readonly SchedulerOptions _scheduler;
    private readonly SchedulerMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly QueueStatusPublisher _queueStatus;
    private volatile LeaderElection? _election;
    private volatile ICoordinationStore? _schedulerStore;
    private volatile LeaderScheduler? _leading;
    private readonly SchedulerFaults? _faults;

    public DirectorRuntime(
        StoreConnection connection, DirectorIdentity director, IOptions<DirectorOptions> directorOptions, IOptions<SchedulerOptions> scheduler, SchedulerMetrics metrics,
        ILoggerFactory loggerFactory, TimeProvider time, IHostApplicationLifetime lifetime, QueueStatusPublisher queueStatus,
        IServiceProvider services)
    {
        _faults = services.GetService<SchedulerFaults>(); // registered only by tests
        _queueStatus = queueStatus;
        _connection = connection;
        _director = director;
        _campaign = directorOptions.Value.Campaign;
        _scheduler = scheduler.Value;
        _metrics = metrics;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DirectorRuntime>();
        _time = time;
        _lifetime = lifetime;
    }

    /// <summary>This director's current election, if it campaigns.</summary>
    public LeaderElection? Election => _election;

    /// <summary>The scheduling loop of the term this director leads now; null while it does not lead (what
    /// <c>/healthz</c> checks for progress).</summary>
    public LeaderScheduler? Leading => _leading;

    /// <summary>The store connection this director's scheduling terms use (its own session), once opened; null when
    /// it does not campaign.</summary>
    public ICoordinationStore? SchedulerStore => _schedulerStore;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Hosted services start after the metrics listeners: from here on a measurement is not dropped.
        _metrics.ZeroRareSeries();
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The host stops on this exception; a supervisor must see a failure, not a clean exit.
            Log.Fatal(_logger, e);
            Environment.ExitCode = 1;
            throw;
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        if (_connection.Options.EvenEndpointsWarning() is { } even)
        {
            Log.EvenEndpoints(_logger, even);
        }

        var store = await WaitForStoreAsync(_connection, stoppingToken).ConfigureAwait(false);
        if (store is null)
        {
            return;
        }

        // Not a retry: the listening addresses are known once the server has started, so wait for that (or shutdown).
        await Task.WhenAny(Task.Delay(Timeout.Infinite, _lifetime.ApplicationStarted), Task.Delay(Timeout.Infinite, stoppingToken))
            .ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        var record = new DirectorRecord
        {
            Id = _director.Id,
            Url = _director.Url,
            Version = typeof(DirectorRuntime).Assembly.GetName().Version?.ToString() ?? "0",
            StartedAt = _time.GetUtcNow(),
        };
        var value = ContractJson.Serialize(record);
        await EnsureLayoutAsync(store, stoppingToken).ConfigureAwait(false);
        await using var registration = new MemberRegistration(
            store, StoreLayout.Directors, _director.Id, value, _loggerFactory.CreateLogger<MemberRegistration>(), _time);
        await registration.StartAsync(stoppingToken).ConfigureAwait(false);
        Log.Registered(_logger, _director.Id, record.Url);
        if (!_campaign)
        {
            Log.NotCampaigning(_logger);
            // Not a retry: a director that does not campaign has nothing more to do until shutdown.
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            return;
        }

        // Same options as the main connection; closed (its session ended) when the runtime stops, after the
        // election has resigned. Connected before campaigning: a director that could not schedule must not lead.
        await using var schedulerConnection = new StoreConnection(_connection.Options, _loggerFactory, _time);
        schedulerConnection.Start();
        var schedulerStore = await WaitForStoreAsync(schedulerConnection, stoppingToken).ConfigureAwait(false);
        if (schedulerStore is null)
        {
            return;
        }

        _schedulerStore = schedulerStore;
        Log.SchedulerConnectionOpen(_logger, schedulerStore.Session.Id, store.Session.Id);
        try
        {
            await CampaignLoopAsync(store, schedulerStore, value, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _schedulerStore = null;
        }
    }

    /// <summary>Campaigns until the director stops; a fresh candidacy after each resignation by the watchdog.</summary>
    private async Task CampaignLoopAsync(ICoordinationStore store, ICoordinationStore schedulerStore, byte[] value, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var election = new LeaderElection(
                store,
                new LeaderElectionOptions { ElectionKey = StoreLayout.Election, CandidateValue = value },
                _loggerFactory.CreateLogger<LeaderElection>(),
                _time);
            _election = election;
            try
            {
                election.Start();
                await CampaignAsync(schedulerStore, election, stoppingToken).ConfigureAwait(false);
            }
            finally
            {
                _election = null;
                // Resigning deletes the candidate key: on shutdown a successor leads at once.
                await ResignQuietlyAsync(election).ConfigureAwait(false);

                await election.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Leads whenever elected, each term scheduling through <paramref name="schedulerStore"/> (its caches and
    /// its fenced writes on one session, so the term reads its own writes); returns when the watchdog made this
    /// candidate resign (to campaign afresh).</summary>
    private async Task CampaignAsync(ICoordinationStore schedulerStore, LeaderElection election, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var lead = await election.WaitForLeadershipAsync(stoppingToken).ConfigureAwait(false);
            var scheduler = new LeaderScheduler(_scheduler, _metrics, _loggerFactory, _time, _queueStatus) { Faults = _faults };
            using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var run = scheduler.RunAsync(schedulerStore, election, lead, term.Token);
            _leading = scheduler;
            bool stalled;
            try
            {
                stalled = await WatchdogAsync(scheduler, run, term.Token).ConfigureAwait(false);
            }
            finally
            {
                _leading = null;
            }

            if (stalled)
            {
                // Resign first: deleting the candidate key fences the stalled loop's writes and lets a successor
                // lead now. Only then wait, boundedly, for the loop; one that ignores cancellation is abandoned.
                await ResignQuietlyAsync(election).ConfigureAwait(false);
            }

            await term.CancelAsync().ConfigureAwait(false);
            try
            {
                await run.WaitAsync(_scheduler.WatchdogTimeout, _time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.SchedulerAbandoned(_logger, _scheduler.WatchdogTimeout.TotalSeconds);
            }

            if (stalled)
            {
                return;
            }
        }
    }

    private async Task ResignQuietlyAsync(LeaderElection election)
    {
        using var resign = new CancellationTokenSource(_connection.Options.RequestTimeout);
        try
        {
            await election.ResignAsync(resign.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException or OperationCanceledException)
        {
            Log.ResignFailed(_logger, e);
        }
    }

    /// <summary>Returns true when the scheduler stalled past the watchdog timeout, false when it ended on its own.</summary>
    private async Task<bool> WatchdogAsync(LeaderScheduler scheduler, Task run, CancellationToken cancellationToken)
    {
        var stalled = await LeaderWatchdog.WaitForStallAsync(
            () => scheduler.SinceProgress, () => scheduler.Loading, run, _scheduler.WatchdogTimeout, _time, cancellationToken).ConfigureAwait(false);
        if (stalled)
        {
            Log.WatchdogResign(_logger, scheduler.SinceProgress.TotalSeconds);
        }

        return stalled;
    }

    private static async Task<ICoordinationStore?> WaitForStoreAsync(StoreConnection connection, CancellationToken stoppingToken)
    {
        try
        {
            return await connection.Connected.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Writes <c>meta/schema</c> on a fresh store and refuses a layout newer than this build understands.</summary>
    private async Task EnsureLayoutAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        // A store that fails now is retried (director.layout); a layout this build does not understand is final.
        var retry = HostRetries.Layout.Build(_time, ex => ex is StoreException,
            args => Log.LayoutCheckRetry(_logger, args.Outcome.Exception!, args.AttemptNumber + 1));
        try
        {
            await retry.ExecuteAsync(async ct =>
            {
                var item = await store.GetAsync(StoreLayout.Schema, ct).ConfigureAwait(false);
                if (item is null)
                {
                    var created = await store.CommitAsync(
                        new Transaction().Create(StoreLayout.Schema, ContractJson.Serialize(new SchemaRecord(Protocol.LayoutVersion))),
                        ct).ConfigureAwait(false);
                    if (created.Succeeded)
                    {
                        return;
                    }

                    // Another director wrote it first: check theirs.
                    item = await store.GetAsync(StoreLayout.Schema, ct).ConfigureAwait(false)
                        ?? throw new StoreException($"{StoreLayout.Schema} was created and removed while this director wrote it.");
                }

                var schema = ContractJson.Deserialize<SchemaRecord>(item.Value.Span);
                if (schema.LayoutVersion > Protocol.LayoutVersion)
                {
                    throw new InvalidOperationException(
                        $"The store's key layout is version {schema.LayoutVersion}; this director understands up to {Protocol.LayoutVersion}. Upgrade the director.");
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StoreException(
                $"Could not read or write {StoreLayout.Schema} in {HostRetries.Layout.MaxRetryAttempts + 1} attempts: {e.Message}", e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 751, Level = LogLevel.Information, Message = "Director {DirectorId} registered at {Url}")]
        public static partial void Registered(ILogger logger, string directorId, string url);

        [LoggerMessage(EventId = 752, Level = LogLevel.Critical, Message = "The scheduling loop made no progress for {Seconds:0.0} s: resigning leadership")]
        public static partial void WatchdogResign(ILogger logger, double seconds);

        [LoggerMessage(EventId = 757, Level = LogLevel.Warning, Message = "Checking the store's key layout failed (attempt {Attempt}); retrying")]
        public static partial void LayoutCheckRetry(ILogger logger, Exception exception, int attempt);

        [LoggerMessage(EventId = 756, Level = LogLevel.Critical, Message = "The stalled scheduling loop did not stop within {Seconds} s after resigning; it is abandoned (its writes are fenced)")]
        public static partial void SchedulerAbandoned(ILogger logger, double seconds);

        [LoggerMessage(EventId = 755, Level = LogLevel.Critical, Message = "The director's runtime failed; the process stops with exit code 1")]
        public static partial void Fatal(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 754, Level = LogLevel.Information, Message = "Director:Campaign is false: this director serves the API and never leads")]
        public static partial void NotCampaigning(ILogger logger);

        [LoggerMessage(EventId = 759, Level = LogLevel.Warning, Message = "{Warning}")]
        public static partial void EvenEndpoints(ILogger logger, string warning);

        [LoggerMessage(EventId = 758, Level = LogLevel.Information, Message = "The scheduler's store connection is open (session {SchedulerSessionId:x}; the API's and the candidacy's is {MainSessionId:x})")]
        public static partial void SchedulerConnectionOpen(ILogger logger, long schedulerSessionId, long mainSessionId);

        [LoggerMessage(EventId = 753, Level = LogLevel.Warning, Message = "Could not resign leadership cleanly; the session's expiry will end it")]
        public static partial void ResignFailed(ILogger logger, Exception exception);
    }
}
