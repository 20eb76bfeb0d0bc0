namespace ControlPlane.Director.Events;

/// <summary><c>Events:*</c>: the director's event stream (<c>GET /v1/events</c>, docs/api.md "Events").</summary>
public sealed class EventsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Events";

    /// <summary>Most open streams per director; one more is refused with 503 and <c>Retry-After</c>.
    /// <value>256: each costs a bounded buffer and a filter check per change (docs/architecture.md).</value></summary>
    public int MaxSubscribers { get; set; } = 256;

    /// <summary>Events a subscriber may have waiting before it is cut off as too slow.
    /// <value>4,096: about two seconds of a 1,000 jobs/s run (roughly 2 job events per job per second).</value></summary>
    public int SubscriberBuffer { get; set; } = 4096;

    /// <summary>Recent events the director keeps to serve resumes (<c>Last-Event-ID</c>, <c>?since=</c>) from memory.
    /// <value>25,000 (about 25 MB of small job events): some 6 s of a 1,000 jobs/s run, two minutes at 50 jobs/s,
    /// longer than a client needs to reconnect elsewhere; a resume from older than that gets a <c>resync</c>.</value></summary>
    public int HistorySize { get; set; } = 25_000;

    /// <summary>How often a comment line is sent on an idle stream, so proxies keep it open.
    /// <value>15 s.</value></summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>ZooKeeper only: how often the director proves its watch complete while changes wait to be released in
    /// revision order (a <c>sync</c> per watch of the connection). Bounds the extra delivery lag on ZooKeeper.
    /// <value>100 ms, only while changes wait.</value></summary>
    public TimeSpan OrderingInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Every setting that is out of range, as sentences; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxSubscribers is < 1 or > 100_000)
        {
            yield return $"Events:MaxSubscribers must be between 1 and 100000; got {MaxSubscribers}.";
        }

        if (SubscriberBuffer is < 16 or > 1_000_000)
        {
            yield return $"Events:SubscriberBuffer must be between 16 and 1000000; got {SubscriberBuffer}.";
        }

        if (HistorySize is < 0 or > 10_000_000)
        {
            yield return $"Events:HistorySize must be between 0 and 10000000; got {HistorySize}.";
        }

        if (KeepAliveInterval < TimeSpan.FromMilliseconds(100) || KeepAliveInterval > TimeSpan.FromMinutes(10))
        {
            yield return $"Events:KeepAliveInterval must be between 100 ms and 10 minutes; got {KeepAliveInterval}.";
        }

        if (OrderingInterval < TimeSpan.FromMilliseconds(5) || OrderingInterval > TimeSpan.FromSeconds(10))
        {
            yield return $"Events:OrderingInterval must be between 5 ms and 10 s; got {OrderingInterval}.";
        }
    }
}
