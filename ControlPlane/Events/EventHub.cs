using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text.Json;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Resilience;
using ControlPlane.Director.Telemetry;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace ControlPlane.Director.Events;

/// <summary>How <see cref="EventHub.Subscribe"/> ended.</summary>
internal enum SubscribeOutcome
{
    /// <summary>Subscribed.</summary>
    Subscribed,

    /// <summary>The hub has not loaded the store yet (the director is starting or cannot reach the store).</summary>
    NotReady,

    /// <summary><see cref="EventsOptions.MaxSubscribers"/> streams are open.</summary>
    Full,
}

/// <summary>
/// The director's one watch of the whole key tree, turned into API events and fanned out to every open
/// <c>GET /v1/events</c> stream (docs/architecture.md, "Event stream"). Every director runs it, followers included.
/// </summary>
/// <remarks>
/// <para>Order: changes are released in revision order up to the revision the watch has proven complete. etcd delivers
/// each revision complete and in order, so that is at once; ZooKeeper reads each notified node after the fact (its
/// revision may be newer than a later notification's) and proves completeness only on a progress report, so changes
/// wait (at most about <see cref="EventsOptions.OrderingInterval"/>) and the hub asks for progress while they do.</para>
/// <para>Cost: per change, one projection and one serialization, then one filter check and one non-blocking enqueue per
/// subscriber, all under one lock; per subscriber, a bounded buffer of references to shared events. A subscriber whose
/// buffer is full is cut off, never waited for.</para>
/// </remarks>
internal sealed class EventHub : BackgroundService
{
    private readonly StoreConnection _connection;
    private readonly EventsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventHub> _logger;
    private readonly EventProjector _projector;
    private readonly Lock _lock = new();
    private readonly List<EventSubscription> _subscribers = [];
    private readonly EventHistory _history;
    private readonly List<StoreChange> _held = [];
    private readonly UpDownCounter<long> _subscriberCount;
    private readonly Counter<long> _cutoffs;
    private readonly Counter<long> _published;
    private readonly Counter<long> _resyncs;
    private volatile bool _ready;
    private long _released;
    private long _watched;
    private int _heldCount;

    public EventHub(
        StoreConnection connection, IOptions<EventsOptions> options, IOptions<HttpJsonOptions> json, DirectorMetrics metrics,
        IHostApplicationLifetime lifetime, TimeProvider time, ILogger<EventHub> logger)
    {
        _connection = connection;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _projector = new EventProjector(json.Value.SerializerOptions);
        _history = new EventHistory(_options.HistorySize);
        _subscriberCount = metrics.Meter.CreateUpDownCounter<long>("controlplane.events.subscribers", "{subscriber}", "Open GET /v1/events streams.");
        _cutoffs = metrics.Meter.CreateCounter<long>("controlplane.events.cutoffs", "{subscriber}", "Event streams ended by the director, by reason (slow: its buffer was full; stopping: the director stops).");
        _published = metrics.Meter.CreateCounter<long>("controlplane.events.published", "{event}", "Events made from store changes, before filtering.");
        _resyncs = metrics.Meter.CreateCounter<long>("controlplane.events.resyncs", "{resync}", "Times the director's watch restarted with a full listing, each a resync event to every subscriber.");
        // Before the server waits for open requests to end: an open stream would hold the shutdown for its whole timeout.
        lifetime.ApplicationStopping.Register(() => CutAll("the director is stopping; reconnect (to another director) with Last-Event-ID", "stopping"));
    }

    /// <summary>The revision up to which every change has been released to subscribers.</summary>
    public long Revision => Interlocked.Read(ref _released);

    /// <summary>Open streams.</summary>
    public int Subscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Subscribers cut off for being slow since the director started.</summary>
    public long SlowCutoffs => Interlocked.Read(ref _slowCutoffs);

    private long _slowCutoffs;

    /// <summary>
    /// Opens a stream for <paramref name="filter"/>. With <paramref name="since"/>, its backlog holds every matching event
    /// after that revision if this director's history still covers it, else one <c>resync</c> event.
    /// </summary>
    public (SubscribeOutcome Outcome, EventSubscription? Subscription) Subscribe(EventFilter filter, long? since)
    {
        lock (_lock)
        {
            if (!_ready)
            {
                return (SubscribeOutcome.NotReady, null);
            }

            if (_subscribers.Count >= _options.MaxSubscribers)
            {
                return (SubscribeOutcome.Full, null);
            }

            var subscription = new EventSubscription(filter, _options.SubscriberBuffer, since ?? _history.Head, Remove);
            if (since is { } from)
            {
                if (_history.Covers(from))
                {
                    AddMatching(subscription, _history.After(from), subscription.Backlog.Add);
                }
                else
                {
                    var reason = $"revision {from} is older than this director's history (it holds changes after {_history.Floor}): re-read the lists";
                    subscription.Backlog.Add(new Delivery(Resync(_history.Head, reason), WithId: true));
                }
            }

            _subscribers.Add(subscription);
            _subscriberCount.Add(1);
            return (SubscribeOutcome.Subscribed, subscription);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Series of rare events exist from the start (an alert on increase() misses one that appears at 1); hosted
        // services start after the metrics listeners, so these zeros are not dropped.
        _subscriberCount.Add(0);
        _resyncs.Add(0);
        foreach (var reason in (string[])["slow", "stopping"])
        {
            _cutoffs.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }

        ICoordinationStore store;
        try
        {
            store = await _connection.Connected.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return;
        }

        var ordering = store.Backend == StoreBackend.ZooKeeper ? RequestOrderingProgressAsync(store, stoppingToken) : Task.CompletedTask;
        // For the director's whole life, like a watch cache: every failure (or end) of the watch pauses on the
        // store.watch.resume shape; a watch that handled something starts the pauses over (one first pause, so a
        // watch failing right after each delivery cannot spin), one that fails before handling anything backs off.
        using var resume = new RetryPacer(
            StoreRetries.WatchResume, _time, args => EventsLog.WatchFailed(_logger, args.Outcome.Exception!, Interlocked.Read(ref _watched)));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (handled, failure) = await FollowAsync(store, stoppingToken).ConfigureAwait(false);
                if (handled)
                {
                    resume.Reset();
                }

                await resume.PauseAfterAsync(failure, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }

        await ordering.ConfigureAwait(false);
    }

    /// <summary>Follows the tree from the last revision handled (etcd resumes there; ZooKeeper lists again) until the
    /// watch fails or ends; returns whether anything was handled and why it stopped (an end counts as a failure: a
    /// watch never ends on its own unless stopped).</summary>
    private async ValueTask<(bool Handled, Exception Failure)> FollowAsync(ICoordinationStore store, CancellationToken stop)
    {
        var handled = false;
        try
        {
            await foreach (var update in store.WatchAsync("", Interlocked.Read(ref _watched), stop).ConfigureAwait(false))
            {
                Handle(update);
                handled = true;
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            return (handled, e);
        }

        return (handled, new StoreException(handled
            ? "The event stream's watch ended."
            : "The event stream's watch ended without delivering anything."));
    }

    /// <summary>ZooKeeper: while changes wait for their order to be proven, ask the store for watch progress.</summary>
    private async Task RequestOrderingProgressAsync(ICoordinationStore store, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.OrderingInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (Volatile.Read(ref _heldCount) > 0)
                {
                    await store.RequestWatchProgressAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void Handle(WatchUpdate update)
    {
        switch (update)
        {
            case WatchResync resync:
                _projector.Load(resync.Items);
                _held.Clear();
                Volatile.Write(ref _heldCount, 0);
                Interlocked.Exchange(ref _watched, resync.Revision);
                lock (_lock)
                {
                    var first = !_ready;
                    _history.Reset(resync.Revision);
                    Interlocked.Exchange(ref _released, resync.Revision);
                    _ready = true;
                    if (first)
                    {
                        EventsLog.Following(_logger, resync.Revision, resync.Items.Count);
                        return;
                    }

                    _resyncs.Add(1);
                    EventsLog.Resynced(_logger, resync.Revision, _subscribers.Count);
                    var e = Resync(resync.Revision, "the director's watch of the store started over (a reconnect, a new store session, or more changes at once than it could keep track of): changes in between cannot be reported one by one; re-read the lists");
                    _history.Append(e);
                    Publish([e]);
                }

                return;
            case WatchChanges changes:
                Interlocked.Exchange(ref _watched, Math.Max(Interlocked.Read(ref _watched), changes.Revision));
                _held.AddRange(changes.Changes);
                Release(changes.Revision);
                Volatile.Write(ref _heldCount, _held.Count);
                return;
        }
    }

    /// <summary>Releases every held change at or below <paramref name="proven"/>, in revision order.</summary>
    private void Release(long proven)
    {
        var released = Interlocked.Read(ref _released);
        if (_held.Count == 0)
        {
            if (proven > released)
            {
                lock (_lock)
                {
                    _history.Advance(proven);
                    Interlocked.Exchange(ref _released, proven);
                }
            }

            return;
        }

        var ready = new List<StoreChange>();
        var waiting = new List<StoreChange>();
        foreach (var change in _held)
        {
            (change.Revision <= proven ? ready : waiting).Add(change);
        }

        _held.Clear();
        _held.AddRange(waiting);
        // Stable: changes of one revision keep the order the store gave them.
        var ordered = ready.Select((c, i) => (c, i)).OrderBy(x => x.c.Revision).ThenBy(x => x.i).Select(x => x.c);
        var events = new List<StreamEvent>();
        foreach (var change in ordered)
        {
            var at = change;
            if (change.Revision < released)
            {
                // Cannot happen by the watch's contract; never break the stream's order if it does.
                EventsLog.LateChange(_logger, change.Key, change.Revision, released);
                at = change with { Revision = released };
            }

            var count = events.Count;
            _projector.Apply(at, events);
            for (var i = count; i < events.Count; i++)
            {
                if (events[i].Revision < released)
                {
                    events[i] = events[i] with { Revision = released };
                }
            }
        }

        lock (_lock)
        {
            foreach (var e in events)
            {
                _history.Append(e);
            }

            var head = Math.Max(released, proven);
            _history.Advance(head);
            Interlocked.Exchange(ref _released, head);
            if (events.Count > 0)
            {
                _published.Add(events.Count);
                Publish(events);
            }
        }
    }

    /// <summary>Fans <paramref name="events"/> out; called under the lock.</summary>
    private void Publish(List<StreamEvent> events)
    {
        for (var s = _subscribers.Count - 1; s >= 0; s--)
        {
            var subscription = _subscribers[s];
            var full = false;
            AddMatching(subscription, events, delivery => full |= !subscription.TryDeliver(delivery));
            if (full)
            {
                var reason = $"too slow: {_options.SubscriberBuffer} events waited to be sent (Events:SubscriberBuffer); reconnect with Last-Event-ID to resume";
                _subscribers.RemoveAt(s);
                _subscriberCount.Add(-1);
                _cutoffs.Add(1, new KeyValuePair<string, object?>("reason", "slow"));
                Interlocked.Increment(ref _slowCutoffs);
                subscription.Cut(reason);
                EventsLog.CutOff(_logger, reason);
            }
        }
    }

    /// <summary>
    /// Passes the events of <paramref name="events"/> that <paramref name="subscription"/> wants to <paramref name="add"/>,
    /// the last one of each revision with its id: a client cut off inside a revision resumes before it and gets the whole
    /// revision again (a repeat), never a part of it missed.
    /// </summary>
    private static void AddMatching(EventSubscription subscription, List<StreamEvent> events, Action<Delivery> add)
    {
        StreamEvent? pending = null;
        foreach (var e in events)
        {
            if (e.Revision <= subscription.SkipThrough || !subscription.Filter.Matches(e))
            {
                continue;
            }

            if (pending is not null)
            {
                add(new Delivery(pending, WithId: pending.Revision != e.Revision));
            }

            pending = e;
        }

        if (pending is not null)
        {
            add(new Delivery(pending, WithId: true));
        }
    }

    private void Remove(EventSubscription subscription)
    {
        lock (_lock)
        {
            if (_subscribers.Remove(subscription))
            {
                _subscriberCount.Add(-1);
            }
        }
    }

    private void CutAll(string reason, string kind)
    {
        lock (_lock)
        {
            foreach (var subscription in _subscribers)
            {
                subscription.Cut(reason);
                _cutoffs.Add(1, new KeyValuePair<string, object?>("reason", kind));
            }

            _subscriberCount.Add(-_subscribers.Count);
            _subscribers.Clear();
        }
    }

    /// <summary>A <c>resync</c> event at <paramref name="revision"/>.</summary>
    private static StreamEvent Resync(long revision, string reason)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", EventTypes.Resync);
            writer.WriteNumber("revision", revision);
            writer.WriteString("reason", reason);
            writer.WriteEndObject();
        }

        return StreamEvent.Create(EventTypes.Resync, revision, buffer.WrittenSpan);
    }

    /// <summary>A <c>cutoff</c> event (no id: it is not a change).</summary>
    public static byte[] Cutoff(string reason)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", EventTypes.Cutoff);
            writer.WriteString("reason", reason);
            writer.WriteEndObject();
        }

        return SseFormat.Body(EventTypes.Cutoff, buffer.WrittenSpan);
    }
}
