using ControlPlane.Coordination.Internal;
using ControlPlane.Coordination.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Coordination.Election;

/// <summary>
/// Leader election with fencing over any <see cref="ICoordinationStore"/>: candidates ordered by the store's
/// creation revision, each watching only its predecessor; the leader's epoch is its candidate key's create
/// revision; every leader write goes through <see cref="FencedCommitAsync(Transaction, CancellationToken)"/> (or its
/// overload that commits through another connection to the same store).
/// </summary>
/// <remarks>
/// <para>The leader stops acting on its own (Current.IsLeader becomes false) when its session has been out of
/// contact so long that less than the safety margin is left before the store could expire it, so it never
/// acts while the store may already have chosen a successor. A fenced write cannot land after leadership is
/// lost, whatever the clocks say: the store checks the leader's key in the same transaction.</para>
/// <para>Call <see cref="Start"/> once; <see cref="ResignAsync"/> or disposal ends the candidacy.
/// See docs/coordination.md.</para>
/// </remarks>
public sealed class LeaderElection : IAsyncDisposable
{
    private readonly ICoordinationStore _store;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Broadcast<Leadership> _state;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private volatile Candidate? _candidate;
    private int _started;
    private int _resigned;

    /// <summary>Creates a candidate; nothing happens until <see cref="Start"/>.</summary>
    public LeaderElection(ICoordinationStore store, LeaderElectionOptions options, ILogger<LeaderElection>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options;
        _logger = logger ?? NullLogger<LeaderElection>.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _state = new Broadcast<Leadership>(Leadership.None(_time.GetUtcNow(), "not started"));
    }

    /// <summary>This candidate's leadership now.</summary>
    public Leadership Current => _state.Current;

    /// <summary>The current leadership, then every change, until the election ends or <paramref name="cancellationToken"/> fires.</summary>
    public IAsyncEnumerable<Leadership> WatchAsync(CancellationToken cancellationToken = default) => _state.ReadAllAsync(cancellationToken);

    /// <summary>The timing check made by <see cref="Start"/>: the worst-case failover and any warnings.</summary>
    public FailoverBudget? Budget { get; private set; }

    /// <summary>Starts campaigning in the background, after checking the timings: the failover budget is logged,
    /// and settings that would break fencing are refused.</summary>
    /// <exception cref="ArgumentException">The options cannot work with the store's session timeout.</exception>
    /// <exception cref="InvalidOperationException">The timing settings are unsafe; the message says what to change.</exception>
    public void Start()
    {
        var session = _store.Session;
        _options.Validate(session.Timeout);
        Budget = FailoverBudget.ForSession(_store.Backend, session, _options.EffectiveMargin(session.Timeout), _options.RetryDelay);
        Log.FailoverBudget(_logger, _options.ElectionKey, Budget.Describe());
        Budget.ThrowIfUnsafe();
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The election has already started.");
        }

        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Returns once this candidate leads.</summary>
    /// <exception cref="InvalidOperationException">The election ended first.</exception>
    public async Task<Leadership> WaitForLeadershipAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var leadership in WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            if (leadership.IsLeader)
            {
                return leadership;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException("The election ended before this candidate led.");
    }

    /// <summary>
    /// Applies <paramref name="transaction"/> only if this candidate still leads, checked by the store in the
    /// same transaction. <see cref="CommitResult.FailedIndex"/> refers to <paramref name="transaction"/>'s own
    /// conditions and operations.
    /// </summary>
    /// <exception cref="LeadershipLostException">Not the leader (nothing was written); the election has stepped down.</exception>
    /// <exception cref="StoreOutcomeUnknownException">The write may have been applied; read before retrying.</exception>
    public Task<CommitResult> FencedCommitAsync(Transaction transaction, CancellationToken cancellationToken = default) =>
        FencedCommitAsync(transaction, _store, cancellationToken);

    /// <summary>
    /// Applies <paramref name="transaction"/> through <paramref name="through"/>, another connection to the same
    /// store (its own session), only if this candidate still leads: the same checks as
    /// <see cref="FencedCommitAsync(Transaction, CancellationToken)"/>, with the candidate key's creation revision
    /// as the first condition, so the store refuses the write once this candidate's key is gone, whichever session
    /// carries it. Lets a leader keep its bulk reads and writes off the session its candidacy hangs on.
    /// </summary>
    /// <remarks>
    /// Leadership still means the candidate key on the election's own session: its safety margin is what is checked
    /// before the write, and a refused write is judged by reading the candidate key through that session (it created
    /// the key, so it cannot read a state older than the key; another session may lag and miss it). The state of
    /// <paramref name="through"/>'s session does not matter for safety: the fence is evaluated by the store.
    /// <paramref name="through"/> must use the same root as the election's store (not checkable here: a different
    /// root makes every fenced write fail, never succeed wrongly).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="through"/> is another kind of store.</exception>
    /// <exception cref="LeadershipLostException">Not the leader (nothing was written); the election has stepped down.</exception>
    /// <exception cref="StoreOutcomeUnknownException">The write may have been applied; read before retrying.</exception>
    public async Task<CommitResult> FencedCommitAsync(Transaction transaction, ICoordinationStore through, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(through);
        if (through.Backend != _store.Backend)
        {
            throw new ArgumentException($"A fenced write for a {_store.Backend} election cannot go through a {through.Backend} store.", nameof(through));
        }

        var lead = Current;
        if (!lead.IsLeader || lead.CandidateKey is null || _candidate is not { } candidate || candidate.Key != lead.CandidateKey)
        {
            throw new LeadershipLostException($"Not the leader of {_options.ElectionKey}: {lead.Reason}.");
        }

        if (!IsSafe(candidate.Session, out var why))
        {
            StepDown(why);
            throw new LeadershipLostException($"Stopped leading {_options.ElectionKey}: {why}.");
        }

        var fenced = transaction.WithFirstCondition(new Condition(ConditionKind.CreatedAt, lead.CandidateKey, lead.Epoch));
        var result = await through.CommitAsync(fenced, cancellationToken).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return result;
        }

        // The candidate key is read through the election's own session (see remarks), not through `through`.
        var lost = result.FailedIndex == 0
            || (result.FailedIndex < 0 && (await _store.GetAsync(lead.CandidateKey, cancellationToken).ConfigureAwait(false))?.CreateRevision != lead.Epoch);
        if (lost)
        {
            Log.FencedWriteRefused(_logger, _options.ElectionKey, lead.Epoch);
            StepDown("a fenced write found the leader key gone");
            throw new LeadershipLostException($"Leadership of {_options.ElectionKey} (epoch {lead.Epoch}) is lost: the leader key is gone.");
        }

        return result with { FailedIndex = result.FailedIndex < 0 ? -1 : result.FailedIndex - 1 };
    }

    /// <summary>Reads who leads <paramref name="electionKey"/> now: the candidate with the lowest create revision, or null.</summary>
    public static async Task<StoreItem?> ReadLeaderAsync(ICoordinationStore store, string electionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var candidates = await ListCandidatesAsync(store, electionKey, cancellationToken).ConfigureAwait(false);
        return candidates.Count == 0 ? null : candidates[0];
    }

    /// <summary>Stops campaigning and deletes this candidate's key (best effort: an unreachable store expires it with
    /// the session). Leadership ends at once.</summary>
    public async Task ResignAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _resigned, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        StepDown("resigned");
        if (_candidate is { } candidate)
        {
            await DeleteCandidateAsync(candidate, cancellationToken).ConfigureAwait(false);
        }

        _candidate = null;
        Log.Resigned(_logger, _options.ElectionKey);
        _state.Complete();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var bounded = new CancellationTokenSource(_store.Session.Timeout * 2, _time);
        await ResignAsync(bounded.Token).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>
    /// Deletes the candidate key so the next candidate leads at once. A key left behind would hold the queue for as
    /// long as this process keeps its session, so a failed delete (a store between leaders, a moment out of contact)
    /// is retried until it works, the session ends, or <paramref name="cancellationToken"/> gives up.
    /// </summary>
    private async Task DeleteCandidateAsync(Candidate candidate, CancellationToken cancellationToken)
    {
        // The session's end removes the key as well: nothing to do once it has ended (its store may be disposed
        // already), and retry only while it lives.
        if (candidate.Session.Ended.IsCompleted || cancellationToken.IsCancellationRequested)
        {
            return;
        }

        var resign = StoreRetries.Resign.Build(
            _time,
            ex => ex is StoreException && !candidate.Session.Ended.IsCompleted,
            args => Log.ResignRetry(_logger, args.Outcome.Exception!, candidate.Key));
        try
        {
            // Deleted, or already gone (the delete's failure means the same).
            await resign.ExecuteAsync(
                async ct => await _store.CommitAsync(new Transaction().Delete(candidate.Key), ct).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up (a delete cut short fails as it likes).
        }
        catch (StoreException) when (candidate.Session.Ended.IsCompleted)
        {
            // The session ended: its key is gone with it.
        }
    }

    private static async Task<List<StoreItem>> ListCandidatesAsync(ICoordinationStore store, string electionKey, CancellationToken cancellationToken)
    {
        var all = new List<StoreItem>();
        string? after = null;
        do
        {
            var page = await store.ListAsync(electionKey, new ListOptions(1000, after), cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Items);
            after = page.Next;
        }
        while (after is not null);

        // The store's creation order, not anyone's clock, decides: lowest create revision leads.
        all.Sort((a, b) => a.CreateRevision.CompareTo(b.CreateRevision));
        return all;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        // Until stopped: a candidate campaigns for the life of its process. Jittered, so candidates that failed
        // together do not retry together.
        var retry = StoreRetries.Election(_options.RetryDelay).Build(_time, _ => true, args =>
        {
            StepDown($"election step failed: {args.Outcome.Exception!.Message}");
            Log.CampaignStepFailed(_logger, args.Outcome.Exception, _options.ElectionKey);
        });
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await retry.ExecuteAsync(async ct => await CampaignStepAsync(ct).ConfigureAwait(false), stop).ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // Stopped, possibly mid-step (a call cut short fails as it likes): nothing is retried after the stop.
                return;
            }
        }
    }

    /// <summary>One pass: make sure a candidate key exists on the live session, then lead or wait for the predecessor.</summary>
    private async Task CampaignStepAsync(CancellationToken stop)
    {
        var session = _store.Session;
        if (session.State != SessionState.Connected)
        {
            StepDown($"session {session.State}");
            await WaitUntilConnectedOrEndedAsync(session, stop).ConfigureAwait(false);
            return;
        }

        var candidate = _candidate;
        if (candidate is null || !ReferenceEquals(candidate.Session, session) || session.Ended.IsCompleted)
        {
            candidate = await RegisterAsync(session, stop).ConfigureAwait(false);
            if (candidate is null)
            {
                return;
            }

            _candidate = candidate;
        }

        var ordered = await ListCandidatesAsync(_store, _options.ElectionKey, stop).ConfigureAwait(false);
        var index = ordered.FindIndex(c => c.Key == candidate.Key);
        if (index < 0)
        {
            // Our key is gone (its session ended, or someone deleted it): register again next pass.
            _candidate = null;
            StepDown("the candidate key disappeared");
            return;
        }

        if (index == 0)
        {
            await LeadAsync(candidate, stop).ConfigureAwait(false);
            return;
        }

        StepDown("another candidate is ahead");
        var predecessor = ordered[index - 1].Key;
        Log.WaitingForPredecessor(_logger, candidate.Key, predecessor);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var gone = _store.WaitForDeletionAsync(predecessor, waiting.Token);
        // Not a retry: level-triggered as well, a notification lost to a bug must cost a recheck interval, not
        // leadership forever.
        var recheck = Task.Delay(RecheckInterval(session), _time, waiting.Token);
        await Task.WhenAny(gone, session.Ended, WatchSafetyAsync(session, waiting.Token), recheck).ConfigureAwait(false);
        await waiting.CancelAsync().ConfigureAwait(false);
        await Observe(gone).ConfigureAwait(false);
    }

    private async Task<Candidate?> RegisterAsync(IStoreSession session, CancellationToken stop)
    {
        // The GUID makes the create idempotent: a create whose answer was lost is found by name and adopted.
        var key = $"{_options.ElectionKey}/c-{Guid.NewGuid():N}";
        try
        {
            var result = await _store.CommitAsync(new Transaction().Create(key, _options.CandidateValue, ephemeral: true), stop).ConfigureAwait(false);
            if (!result.Succeeded || result.Items is not [{ } item])
            {
                throw new StoreException($"Could not create candidate key {key}.");
            }

            Log.CandidateRegistered(_logger, key, item.CreateRevision, _options.ElectionKey);
            return new Candidate(session, key, item.CreateRevision);
        }
        catch (StoreOutcomeUnknownException)
        {
            await WaitUntilConnectedOrEndedAsync(session, stop).ConfigureAwait(false);
            if (session.State != SessionState.Connected)
            {
                return null;
            }

            var found = await _store.GetAsync(key, stop).ConfigureAwait(false);
            if (found is null || found.Owner != session.Id)
            {
                return null;
            }

            Log.CandidateAdopted(_logger, key);
            return new Candidate(session, key, found.CreateRevision);
        }
    }

    private async Task LeadAsync(Candidate candidate, CancellationToken stop)
    {
        if (_state.Publish(new Leadership(true, candidate.CreateRevision, candidate.Key, _time.GetUtcNow(), "first candidate"), SameLeadership))
        {
            Log.BecameLeader(_logger, _options.ElectionKey, candidate.CreateRevision, candidate.Key);
        }

        using var leading = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var deleted = _store.WaitForDeletionAsync(candidate.Key, leading.Token);
        var unsafeSession = WatchSafetyAsync(candidate.Session, leading.Token);
        Task first;
        while (true)
        {
            // Not a retry: besides the watch, read the own key now and then: a deletion whose notification was lost
            // must not leave a leader that believes in itself (its fenced writes would fail, but an idle one would not know).
            var recheck = Task.Delay(RecheckInterval(candidate.Session), _time, leading.Token);
            first = await Task.WhenAny(deleted, unsafeSession, recheck).ConfigureAwait(false);
            if (first != recheck || stop.IsCancellationRequested)
            {
                break;
            }

            if (!await OwnKeyStandsAsync(candidate, leading.Token).ConfigureAwait(false))
            {
                first = deleted; // gone without a notification: the same as deleted
                break;
            }
        }

        await leading.CancelAsync().ConfigureAwait(false);
        await Observe(deleted).ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();

        if (first == deleted)
        {
            _candidate = null;
            StepDown(deleted.IsFaulted ? $"lost sight of the leader key: {deleted.Exception!.InnerException!.Message}" : "the leader key was deleted");
        }
        else
        {
            StepDown(await unsafeSession.ConfigureAwait(false));
        }
    }

    /// <summary>How often waits are backed by a fresh read: the session timeout, between 1 and 30 seconds.</summary>
    private static TimeSpan RecheckInterval(IStoreSession session) =>
        TimeSpan.FromTicks(Math.Clamp(session.Timeout.Ticks, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>True when the candidate key still exists as created; also true when the store cannot be asked
    /// (contact loss is the safety watch's business).</summary>
    private async Task<bool> OwnKeyStandsAsync(Candidate candidate, CancellationToken cancellationToken)
    {
        try
        {
            var item = await _store.GetAsync(candidate.Key, cancellationToken).ConfigureAwait(false);
            return item is not null && item.CreateRevision == candidate.CreateRevision;
        }
        catch (Exception ex) when (ex is StoreException or OperationCanceledException)
        {
            return true;
        }
    }

    /// <summary>Completes with the reason once <paramref name="session"/> ends or has been out of contact past the margin.</summary>
    private async Task<string> WatchSafetyAsync(IStoreSession session, CancellationToken cancellationToken)
    {
        var margin = _options.EffectiveMargin(session.Timeout);
        // Checking four times per margin bounds how late a step-down can be.
        var interval = TimeSpan.FromTicks(Math.Clamp(margin.Ticks / 4, TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
        while (true)
        {
            if (!IsSafe(session, out var why))
            {
                return why;
            }

            try
            {
                // Not a retry: the safety check's period (local arithmetic on the session's acknowledged send time).
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return "stopped watching";
            }
        }
    }

    private bool IsSafe(IStoreSession session, out string why)
    {
        var state = session.State;
        if (state is SessionState.Lost or SessionState.Closed)
        {
            why = $"the session {state.ToString().ToLowerInvariant()}";
            return false;
        }

        // Checked in every state, not only Suspended: a black-holed connection still looks connected until the
        // client's read timeout fires, while the store's expiry clock is already running.
        var margin = _options.EffectiveMargin(session.Timeout);
        if (session.ProvablyAliveFor <= margin)
        {
            why = $"no answer from the store for so long that less than the {margin.TotalMilliseconds:0} ms safety margin is left before it may expire the session";
            return false;
        }

        why = string.Empty;
        return true;
    }

    private static async Task WaitUntilConnectedOrEndedAsync(IStoreSession session, CancellationToken stop)
    {
        await foreach (var state in session.WatchStateAsync(stop).ConfigureAwait(false))
        {
            if (state is SessionState.Connected or SessionState.Lost or SessionState.Closed)
            {
                return;
            }
        }
    }

    private void StepDown(string reason)
    {
        var current = _state.Current;
        var next = new Leadership(false, 0, _candidate?.Key, _time.GetUtcNow(), reason);
        if (_state.Publish(next, SameLeadership) && current.IsLeader)
        {
            Log.SteppedDown(_logger, _options.ElectionKey, current.Epoch, reason);
        }
    }

    private static bool SameLeadership(Leadership a, Leadership b) =>
        a.IsLeader == b.IsLeader && a.Epoch == b.Epoch && a.CandidateKey == b.CandidateKey;

    private static async Task Observe(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or StoreException)
        {
            // A wait cut short by a step-down, or a watch that failed: the next pass decides again.
        }
    }

    private sealed record Candidate(IStoreSession Session, string Key, long CreateRevision);
}
