using System.Collections.Concurrent;
using ControlPlane.Agents.Diagnostics;
using ControlPlane.Agents.Executors;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Coordination.Membership;
using ControlPlane.Coordination.Resilience;

namespace ControlPlane.Agents.Runtime;

/// <summary>What ended an agent's run.</summary>
internal enum DrainCause
{
    /// <summary>The host is stopping (SIGTERM).</summary>
    HostStopping,

    /// <summary>A <c>drains/&lt;workerId&gt;</c> record asked for it: the host is stopped afterwards.</summary>
    DrainRecord,

    /// <summary>A background loop failed: the agent drains and the host is stopped.</summary>
    Failed,
}

/// <summary>
/// One agent on one store connection (docs/protocol.md, docs/agent.md): registers the worker, follows its
/// assignments and drain record through watch-fed caches, reconciles what runs with what is assigned, fences itself
/// when its session could expire, and drains. Partial files: reconciliation, attempts, reports, fencing, drain.
/// </summary>
internal sealed partial class AgentRuntime
{
    // "At least every second" (docs/protocol.md): the floor under the level-triggered loop.
    private static readonly TimeSpan ReconcilePeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FencePeriod = TimeSpan.FromMilliseconds(100);
    private readonly ICoordinationStore _store;
    private readonly ICoordinationStore _root;
    private readonly AgentOptions _options;
    private readonly ExecutorRegistry _executors;
    private readonly IReadOnlyList<IExecutionObserver> _observers;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Attempt> _attempts = new(StringComparer.Ordinal);
    private readonly Wakeup _wake = new();
    // Replaced when a drain is taken back (its drain record deleted while attempts were still finishing).
    private TaskCompletionSource<DrainCause> _drainRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Set by a drain that cannot be taken back (the host stops, a loop failed): it ends the run whatever the record says.
    private volatile bool _mustStop;
    private DrainCause _stopCause;
    private readonly CancellationTokenSource _abort = new();
    private readonly string _assignmentsPrefix;
    private MemberRegistration? _registration;
    private WatchCache? _assignments;
    private WatchCache? _drains;
    private readonly TimeSpan _stopGrace;
    private volatile bool _draining;

    public AgentRuntime(
        ICoordinationStore store, AgentOptions options, ExecutorRegistry executors, IEnumerable<IExecutionObserver> observers,
        ILoggerFactory loggerFactory, TimeProvider time, TimeSpan stopGrace)
    {
        _stopGrace = stopGrace;
        // The agent runs entirely inside its cell's view (docs/cells.md): it cannot name another cell's keys.
        _store = store.ForCell(options.Cell);
        _root = store;
        _options = options;
        _executors = executors;
        _observers = observers.ToList();
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<AgentRuntime>();
        _time = time;
        WorkerId = WorkerIdentity.Resolve(options.Id);
        _assignmentsPrefix = StoreLayout.WorkerAssignments(WorkerId);
        StartedAt = time.GetUtcNow();
    }

    /// <summary>This agent's worker id.</summary>
    public string WorkerId { get; }

    /// <summary>When this agent started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>True while the registration exists on the current session.</summary>
    public bool Registered => _registration?.Registered == true;

    /// <summary>Attempts in progress here (running, starting or reporting).</summary>
    public int ActiveAttempts => _attempts.Count;

    /// <summary>The attempts in the table, one line each (key, stop reason, started, settled, report state): for a
    /// test's failure message.</summary>
    internal string DescribeAttempts() => string.Join("; ", _attempts.Values.Select(a =>
        $"{a.Key} stop={a.Stop} started={a.Started} settled={a.Settled} immediate={a.Immediate?.State} current={a.Current.State} v{a.Version}/w{a.WrittenVersion}"));

    /// <summary>What <c>/healthz</c> reports: healthy while the worker is registered on a connected session that is
    /// provably alive for more than the fencing margin, i.e. while this agent may start work (docs/agent.md).</summary>
    public AgentHealth Health()
    {
        var session = _store.Session;
        var registered = Registered;
        var problem = !registered ? "the worker is not registered on the current store session"
            : session.State != SessionState.Connected ? $"the store session is {session.State}"
            : BeatLapsed() is { } silence ? $"fenced: no beat acknowledged for {silence.TotalSeconds:0.#} s (beat lease {_beatLease!.Value.TotalSeconds:0.#} s)"
            : !IsHealthy(session) ? "fenced: the store session could expire within the fencing margin"
            : null;
        return new(problem is null, problem ?? "ok", WorkerId, session.State.ToString(), registered, _draining, ActiveAttempts);
    }

    /// <summary>Completes when the worker is registered the first time.</summary>
    public Task RegisteredOnce => _registeredOnce.Task;

    private readonly TaskCompletionSource _registeredOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Asks for a drain; the first cause wins. Only a <see cref="DrainCause.DrainRecord"/> drain can be taken back.</summary>
    public void RequestDrain(DrainCause cause)
    {
        if (cause != DrainCause.DrainRecord)
        {
            _stopCause = cause;
            _mustStop = true;
        }

        Volatile.Read(ref _drainRequested).TrySetResult(cause);
    }

    /// <summary>Kills every attempt at once, without reports, and ends <see cref="RunAsync"/> as soon as possible
    /// (the host's shutdown timeout ran out).</summary>
    public void Abort()
    {
        var count = 0;
        foreach (var attempt in _attempts.Values)
        {
            attempt.RequestStop(StopReason.Fenced);
            count++;
        }

        if (count > 0)
        {
            AgentLog.Aborted(_logger, count);
        }

        _abort.Cancel();
    }

    /// <summary>Registers, runs assignments until a drain is requested (or <paramref name="cancellationToken"/>
    /// fires before registration), drains and deregisters. Returns what ended the run.</summary>
    public async Task<DrainCause> RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        var token = linked.Token;
        _beatLease = _options.EffectiveBeatFence(_store.Session.RequestedTimeout);
        // The one write outside the cell's view: its record at the root, so the directors campaign in it (docs/cells.md).
        await HostRetries.Cell.Build(_time, e => e is StoreException, args => AgentLog.CellRegistrationRetry(_logger, args.Outcome.Exception!, _options.Cell))
            .ExecuteAsync(async ct => await CellRegistry.EnsureAsync(_root, _options.Cell, WorkerId, _time, ct).ConfigureAwait(false), token).ConfigureAwait(false);
        _assignments = new WatchCache(_store, _assignmentsPrefix, _loggerFactory.CreateLogger<WatchCache>(), _time);
        _drains = new WatchCache(_store, StoreLayout.Drain(WorkerId), _loggerFactory.CreateLogger<WatchCache>(), _time);
        Task[] loops = [];
        try
        {
            // Caches first: the first reconcile pass after registering already sees every assignment.
            await _assignments.StartAsync(token).ConfigureAwait(false);
            await _drains.StartAsync(token).ConfigureAwait(false);
            await StartRolloutsAsync(token).ConfigureAwait(false);
            // Created after the rollouts were read: the first record already advertises the features on for this worker.
            _registration = new MemberRegistration(
                _store, StoreLayout.Workers, WorkerId, ContractJson.Serialize(BuildRecord(draining: false)),
                _loggerFactory.CreateLogger<MemberRegistration>(), _time);
            // The registration's creation counts as the first beat, from before it could have been sent.
            var registerSent = _time.GetTimestamp();
            Interlocked.Exchange(ref _beatAckedSend, registerSent);
            var registering = _registration.StartAsync(token);
            if (await Task.WhenAny(registering, Volatile.Read(ref _drainRequested).Task).ConfigureAwait(false) == registering)
            {
                await registering.ConfigureAwait(false);
                if (_beatLease is { } lease && _time.GetElapsedTime(registerSent) > lease / 2)
                {
                    // The registration waited (for an earlier incarnation's key to go): beat now, or the lease would
                    // run out before the first beat and fence an agent that has just arrived.
                    await WriteRegistrationAsync(token).ConfigureAwait(false);
                }
                AgentLog.Registered(_logger, WorkerId, _options.Cell, _store.Session.Id, _options.Slots,
                    string.Join(",", _executors.Advertised), string.Join(",", _options.EffectiveFeatures));
                _registeredOnce.TrySetResult();
                loops =
                [
                    Guard("reconcile", () => ReconcileLoopAsync(token), token),
                    Guard("fencing", () => FenceLoopAsync(token), token),
                    Guard("wake", () => PumpAsync(_assignments.WatchAppliedAsync(token)), token),
                    Guard("wake", () => PumpAsync(_drains.WatchAppliedAsync(token)), token),
                    Guard("wake", () => PumpAsync(_registration.WatchRegisteredAsync(token)), token),
                    Guard("rollouts", () => FollowRolloutsAsync(token), token),
                    WorkerBeats ? Guard("beat", () => BeatLoopAsync(token), token) : Task.CompletedTask,
                    WorkerBeats ? Guard("beat", () => PumpBeatsAsync(_registration.WatchRegisteredAsync(token)), token) : Task.CompletedTask,
                ];
            }

            // Bounded by the drains asked for: each round is one drain request taken back before it finished.
            while (true)
            {
                var cause = await Volatile.Read(ref _drainRequested).Task.WaitAsync(token).ConfigureAwait(false);
                if (await DrainAsync(cause, token).ConfigureAwait(false))
                {
                    return cause;
                }

                // Taken back: wait for the next request. A stop asked for meanwhile is not lost with the old request.
                Volatile.Write(ref _drainRequested, new TaskCompletionSource<DrainCause>(TaskCreationOptions.RunContinuationsAsynchronously));
                if (_mustStop)
                {
                    RequestDrain(_stopCause);
                }
            }
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(loops).ConfigureAwait(false);
            foreach (var attempt in _attempts.Values)
            {
                // Only an abort gets here with attempts left: none may outlive the agent's registration.
                attempt.RequestStop(StopReason.Fenced);
            }

            if (_rollouts is not null)
            {
                await _rollouts.DisposeAsync().ConfigureAwait(false);
            }

            await _drains.DisposeAsync().ConfigureAwait(false);
            await _assignments.DisposeAsync().ConfigureAwait(false);
            if (_registration is not null)
            {
                await _registration.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The registration record of this agent, with a fresh beat when it has feature <c>workerHeartbeat</c>.</summary>
    internal WorkerRecord BuildRecord(bool draining) => WithBeat(new()
    {
        Id = WorkerId,
        Host = Environment.MachineName,
        ProcessId = Environment.ProcessId,
        Labels = new Dictionary<string, string>(_options.Labels, StringComparer.Ordinal),
        Slots = _options.Slots,
        Version = WorkerIdentity.Version,
        ProtocolVersion = Protocol.Version,
        Executors = _executors.Advertised,
        // The configured features, then those the cell's rollouts have on for this worker (AgentRuntime.Rollouts.cs).
        Features = [.. _options.EffectiveFeatures, .. _rolledOut],
        HeartbeatSeconds = _options.Has(Protocol.Features.Heartbeat) || WorkerBeats ? _options.HeartbeatInterval.TotalSeconds : 0,
        StartedAt = StartedAt,
        Draining = draining,
        // Only a named cell's agents say so: a default-cell agent writes the record it wrote before cells.
        Cell = _options.Cell == Cells.Default ? null : _options.Cell,
    });

    private async Task PumpAsync<T>(IAsyncEnumerable<T> changes)
    {
        await foreach (var _ in changes.ConfigureAwait(false))
        {
            _wake.Signal();
        }
    }

    /// <summary>A registration made on a new session carries the record of the last write: the next beat follows at
    /// once, so the new key lists what runs now.</summary>
    private async Task PumpBeatsAsync(IAsyncEnumerable<bool> registered)
    {
        await foreach (var now in registered.ConfigureAwait(false))
        {
            if (now)
            {
                RegistrationChanged();
            }
        }
    }

    /// <summary>Runs a background loop; cancellation ends it quietly, anything else goes to the one fatal path:
    /// logged, and the agent drains (its attempts are still reported) and stops the host, rather than living on
    /// half-working.</summary>
    private Task Guard(string name, Func<Task> loop, CancellationToken token) => Task.Run(async () =>
    {
        try
        {
            await loop().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            AgentLog.LoopFailed(_logger, e, name);
            RequestDrain(DrainCause.Failed);
        }
    }, CancellationToken.None);

    private void Emit(ExecutionEventKind kind, Attempt attempt, string? state)
    {
        var e = new ExecutionEvent(kind, attempt.Assigned.JobId, attempt.Assigned.Attempt, attempt.Assigned.Epoch, WorkerId,
            Environment.ProcessId, _time.GetUtcNow(), state, attempt.JobProcessId);
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnExecutionEvent(e);
            }
            catch (Exception ex)
            {
                AgentLog.ObserverFailed(_logger, ex);
            }
        }
    }
}
