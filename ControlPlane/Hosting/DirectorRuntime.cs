using System.Collections.Concurrent;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Membership;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Api;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Hosting;

/// <summary>
/// The director's background life: once the store is reachable it checks the key layout version, registers the
/// director, campaigns for leadership in every cell (docs/cells.md: one <see cref="CellCampaign"/> per cell) and, in
/// each cell it leads, runs that cell's scheduler. A per-cell watchdog makes a leader whose scheduling loop has stalled
/// resign that cell (its session would otherwise keep it leader forever), then campaign again; spreading hands cells to
/// directors that lead fewer. On shutdown it resigns everywhere, so successors take over without waiting for the
/// session to expire.
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
    private volatile ICoordinationStore? _schedulerStore;
    private readonly SchedulerFaults? _faults;
    private readonly DirectorOptions _directorOptions;
    private readonly IOptions<AdmissionOptions> _admission;
    private readonly ConcurrentDictionary<string, CellCampaign> _cells = new(StringComparer.Ordinal);

    public DirectorRuntime(
        StoreConnection connection, DirectorIdentity director, IOptions<DirectorOptions> directorOptions, IOptions<SchedulerOptions> scheduler, SchedulerMetrics metrics,
        ILoggerFactory loggerFactory, TimeProvider time, IHostApplicationLifetime lifetime, QueueStatusPublisher queueStatus,
        IOptions<AdmissionOptions> admission, IServiceProvider services)
    {
        _directorOptions = directorOptions.Value;
        _admission = admission;
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

    /// <summary>This director's current election in the default cell, if it campaigns.</summary>
    public LeaderElection? Election => Campaign(Cells.Default)?.Election;

    /// <summary>The scheduling loop of the term this director leads now in the default cell; null while it does not lead.</summary>
    public LeaderScheduler? Leading => Campaign(Cells.Default)?.Leading;

    /// <summary>This director's campaign in every cell it knows (docs/cells.md); empty when it does not campaign.</summary>
    public IReadOnlyCollection<CellCampaign> Campaigns => [.. _cells.Values];

    /// <summary>This director's campaign in <paramref name="cell"/>, or null.</summary>
    public CellCampaign? Campaign(string cell) => _cells.GetValueOrDefault(cell);

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
            Version = _director.Version,
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

    /// <summary>Campaigns in the default cell and in every cell the registry lists (re-read every
    /// <see cref="DirectorOptions.CellDiscoveryInterval"/>) whose policy allows this director's version, one
    /// <see cref="CellCampaign"/> each; leaves the election of a cell whose policy stops allowing it (resigning when it
    /// leads there); and spreads leadership (<see cref="CellSpread"/>) at most once per
    /// <see cref="DirectorOptions.SpreadInterval"/>, until the director stops. A campaign that fails stops the director,
    /// as the one campaign did before cells.</summary>
    private async Task CampaignLoopAsync(ICoordinationStore store, ICoordinationStore schedulerStore, byte[] value, CancellationToken stoppingToken)
    {
        var context = new CampaignContext(_scheduler, _metrics, _loggerFactory, _time, _connection.Options.RequestTimeout, _faults);
        var runs = new Dictionary<string, (CancellationTokenSource Stop, Task Run)>(StringComparer.Ordinal);
        var nextSpread = _time.GetUtcNow() + _directorOptions.SpreadInterval;
        // Stops every campaign when the director stops or one of them failed (the failure then stops the director).
        using var campaigns = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var cells = await CellRegistry.ListAsync(store, stoppingToken).ConfigureAwait(false);
                    var policies = await CellPolicyReads.ListAsync(store, stoppingToken).ConfigureAwait(false);
                    foreach (var cell in cells)
                    {
                        if (CellPolicyReads.Veto(policies.GetValueOrDefault(cell), _director.Version) is { } veto)
                        {
                            Stop(cell, veto);
                        }
                        else
                        {
                            Start(cell);
                        }
                    }

                    if (_time.GetUtcNow() >= nextSpread)
                    {
                        nextSpread = _time.GetUtcNow() + _directorOptions.SpreadInterval;
                        await SpreadAsync(store, stoppingToken).ConfigureAwait(false);
                    }
                }
                catch (StoreException e)
                {
                    // The next round reads again; the campaigns already running carry on meanwhile.
                    Log.CellDiscoveryFailed(_logger, e);
                }

                // Not a retry: the discovery period, cut short when a campaign ends (a failure, a veto, or the director stopping).
                await Task.WhenAny(Task.Delay(_directorOptions.CellDiscoveryInterval, _time, stoppingToken), Task.WhenAny(runs.Values.Select(r => r.Run)))
                    .ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                foreach (var (cell, (stop, run)) in runs.Where(r => r.Value.Run.IsCompleted).ToList())
                {
                    if (run.IsFaulted)
                    {
                        await run.ConfigureAwait(false); // a failed campaign stops the director
                    }

                    // Ended by a veto or stopped: the next round campaigns again if the cell's policy allows it by then.
                    runs.Remove(cell);
                    _cells.TryRemove(cell, out _);
                    stop.Dispose();
                }
            }
        }
        finally
        {
            // Each campaign resigns on the way out, so successors lead at once.
            await campaigns.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(runs.Values.Select(r => r.Run)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            foreach (var (stop, _) in runs.Values)
            {
                stop.Dispose();
            }

            _cells.Clear();
        }

        void Start(string cell)
        {
            if (runs.ContainsKey(cell))
            {
                return;
            }

            // The default cell keeps the singleton publisher (admission and tests read it); a named cell has its own.
            var publisher = cell == Cells.Default ? _queueStatus : new QueueStatusPublisher(_admission, _time, _loggerFactory.CreateLogger<QueueStatusPublisher>());
            // Asked again at every election won: a policy written since the last round keeps this director from leading.
            var campaign = new CellCampaign(cell, store, schedulerStore, value, publisher, context, async ct =>
                CellPolicyReads.Veto(await CellPolicyReads.ReadAsync(store, cell, ct).ConfigureAwait(false), _director.Version));
            var stop = CancellationTokenSource.CreateLinkedTokenSource(campaigns.Token);
            _cells[cell] = campaign;
            Log.Campaigning(_logger, cell);
            runs[cell] = (stop, Task.Run(() => campaign.RunAsync(stop.Token), CancellationToken.None));
        }

        void Stop(string cell, string veto)
        {
            if (runs.TryGetValue(cell, out var run) && !run.Stop.IsCancellationRequested)
            {
                // The campaign resigns on its way out (a successor of an allowed version leads at once); it leaves `runs`
                // once it has ended.
                Log.VersionNotAllowed(_logger, cell, veto);
                run.Stop.Cancel();
            }
        }
    }

    /// <summary>Reads every cell's candidates (only when this director leads a cell: one that leads none never moves)
    /// and makes the one move <see cref="CellSpread"/> chooses, if any.</summary>
    private async Task SpreadAsync(ICoordinationStore store, CancellationToken cancellationToken)
    {
        var campaigns = _cells.Values.ToList();
        if (campaigns.Count < 2)
        {
            return;
        }

        // Every campaigning director campaigns in the default cell unless its policy bars the director's version: its
        // candidates count them (this one always counts itself).
        var directors = (await CandidatesAsync(store, Cells.Default, cancellationToken).ConfigureAwait(false)).Append(_director.Id).Distinct(StringComparer.Ordinal).Count();
        // A director that leads nothing never moves (it is the one others hand cells to): it reads no queues.
        if (directors < 2 || !campaigns.Any(c => c.IsLeader))
        {
            return;
        }

        var queues = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var campaign in campaigns)
        {
            queues[campaign.Cell] = await CandidatesAsync(store, campaign.Cell, cancellationToken).ConfigureAwait(false);
        }

        if (CellSpread.Choose(_director.Id, queues, directors) is { } move && _cells.TryGetValue(move.Cell, out var chosen))
        {
            Log.Spreading(_logger, move.Cell, move.Reason);
            chosen.Requeue();
        }
    }

    /// <summary>The director ids of <paramref name="cell"/>'s candidates, oldest (the leader) first.</summary>
    private static async Task<IReadOnlyList<string>> CandidatesAsync(ICoordinationStore store, string cell, CancellationToken cancellationToken)
    {
        var items = await StoreReads.ListAllAsync(store.ForCell(cell), StoreLayout.Election, cancellationToken).ConfigureAwait(false);
        return [.. items.OrderBy(i => i.CreateRevision).Select(DirectorIdOf)];
    }

    private static string DirectorIdOf(StoreItem item)
    {
        try
        {
            return ContractJson.Deserialize<DirectorRecord>(item.Value.Span).Id;
        }
        catch (System.Text.Json.JsonException)
        {
            // A candidate of another build: its key is all that is known of it, and it counts as a director of its own.
            return item.Key;
        }
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

        [LoggerMessage(EventId = 757, Level = LogLevel.Warning, Message = "Checking the store's key layout failed (attempt {Attempt}); retrying")]
        public static partial void LayoutCheckRetry(ILogger logger, Exception exception, int attempt);

        [LoggerMessage(EventId = 755, Level = LogLevel.Critical, Message = "The director's runtime failed; the process stops with exit code 1")]
        public static partial void Fatal(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 754, Level = LogLevel.Information, Message = "Director:Campaign is false: this director serves the API and never leads")]
        public static partial void NotCampaigning(ILogger logger);

        [LoggerMessage(EventId = 759, Level = LogLevel.Warning, Message = "{Warning}")]
        public static partial void EvenEndpoints(ILogger logger, string warning);

        [LoggerMessage(EventId = 758, Level = LogLevel.Information, Message = "The scheduler's store connection is open (session {SchedulerSessionId:x}; the API's and the candidacy's is {MainSessionId:x})")]
        public static partial void SchedulerConnectionOpen(ILogger logger, long schedulerSessionId, long mainSessionId);

        [LoggerMessage(EventId = 775, Level = LogLevel.Information, Message = "Campaigning in cell {Cell}")]
        public static partial void Campaigning(ILogger logger, string cell);

        [LoggerMessage(EventId = 776, Level = LogLevel.Information, Message = "Spreading leadership: requeueing in cell {Cell} ({Reason})")]
        public static partial void Spreading(ILogger logger, string cell, string reason);

        [LoggerMessage(EventId = 779, Level = LogLevel.Warning, Message = "Not campaigning in cell {Cell}: {Reason}")]
        public static partial void VersionNotAllowed(ILogger logger, string cell, string reason);

        [LoggerMessage(EventId = 777, Level = LogLevel.Warning, Message = "Reading the cells or their candidates failed; trying again at the next round")]
        public static partial void CellDiscoveryFailed(ILogger logger, Exception exception);
    }
}
