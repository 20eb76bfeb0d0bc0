using System.Threading.Channels;

namespace ControlPlane.Director.Events;

/// <summary>
/// One open stream: its filter, the backlog a resume starts with, and a bounded buffer the <see cref="EventHub"/>
/// fills and the response drains. When the buffer is full the hub cuts the subscriber off (<see cref="Cut"/>) instead
/// of waiting: a slow client never slows the director or the other subscribers.
/// </summary>
internal sealed class EventSubscription : IDisposable
{
    private readonly Channel<Delivery> _buffer;
    private readonly CancellationTokenSource _cut = new();
    private readonly Action<EventSubscription> _remove;
    private string? _cutoffReason;

    public EventSubscription(EventFilter filter, int capacity, long skipThrough, Action<EventSubscription> remove)
    {
        Filter = filter;
        SkipThrough = skipThrough;
        _remove = remove;
        _buffer = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(capacity)
        {
            // Wait makes TryWrite fail when full rather than drop anything silently: the hub then cuts the subscriber off.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
    }

    /// <summary>What this subscriber asked for.</summary>
    public EventFilter Filter { get; }

    /// <summary>Events at or below this revision are not sent (the client has them: its resume point).</summary>
    public long SkipThrough { get; }

    /// <summary>Sent before anything from <see cref="Reader"/>: the resumed history, or a resync.</summary>
    public List<Delivery> Backlog { get; } = [];

    /// <summary>The live events.</summary>
    public ChannelReader<Delivery> Reader => _buffer.Reader;

    /// <summary>Fires when the subscriber is cut off.</summary>
    public CancellationToken CutToken => _cut.Token;

    /// <summary>Why the subscriber was cut off; null while it is not.</summary>
    public string? CutoffReason => Volatile.Read(ref _cutoffReason);

    /// <summary>Queues <paramref name="delivery"/>; false when the buffer is full (the caller cuts the subscriber off).</summary>
    public bool TryDeliver(Delivery delivery) => _buffer.Writer.TryWrite(delivery);

    /// <summary>Ends the stream with a <c>cutoff</c> event saying <paramref name="reason"/>; the first reason wins.</summary>
    public void Cut(string reason)
    {
        if (Interlocked.CompareExchange(ref _cutoffReason, reason, null) is not null)
        {
            return;
        }

        _buffer.Writer.TryComplete();
        try
        {
            _cut.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The response already ended.
        }
    }

    /// <summary>Leaves the hub (the response ended).</summary>
    public void Dispose()
    {
        _remove(this);
        _buffer.Writer.TryComplete();
        _cut.Dispose();
    }
}
