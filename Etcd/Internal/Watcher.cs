using System.Threading.Channels;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Etcd.Internal;

/// <summary>
/// Client-side state of one watch across stream re-creations. <see cref="NextRevision"/> is the resume point:
/// the revision after the last one delivered, so a re-created watch neither repeats nor skips events.
/// Fields are guarded by <see cref="WatchMultiplexer"/>'s lock or touched only by its single read loop.
/// </summary>
internal sealed class Watcher
{
    private readonly WatchCreateRequest _template;

    public Watcher(ByteString key, EtcdWatchOptions options, int capacity)
    {
        _template = new WatchCreateRequest
        {
            Key = key,
            RangeEnd = options.RangeEnd ?? ByteString.Empty,
            PrevKv = options.PrevKv,
            ProgressNotify = options.ProgressNotify,
            // Let the server split huge revisions; the read loop joins fragments.
            Fragment = true,
        };
        if (options.NoPut)
        {
            _template.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        }

        if (options.NoDelete)
        {
            _template.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
        }

        NextRevision = options.StartRevision;
        // Wait, not drop: losing events is the one thing a watch must never do; a slow reader slows the stream.
        Events = Channel.CreateBounded<EtcdWatchBatch>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string KeyText => _template.Key.ToStringUtf8();

    /// <summary>Server id on the current stream, -1 while not created.</summary>
    public long WatchId { get; set; } = -1;

    /// <summary>Revision to (re)start from; 0 only before the first acknowledgement of a "from now" watch.</summary>
    public long NextRevision { get; set; }

    /// <summary>Set when the caller disposed the watch.</summary>
    public bool Canceled { get; set; }

    /// <summary>Consecutive creates refused for what may be an expired token.</summary>
    public int AuthRetries { get; set; }

    /// <summary>Events of a fragmented response received so far.</summary>
    public List<Event>? Fragments { get; set; }

    public Channel<EtcdWatchBatch> Events { get; }

    public TaskCompletionSource Created { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Records the acknowledgement: a "from now" watch resumes after the acknowledged revision.</summary>
    public void OnCreated(long watchId, long headerRevision)
    {
        WatchId = watchId;
        AuthRetries = 0;
        if (NextRevision == 0)
        {
            NextRevision = headerRevision + 1;
        }
    }

    /// <summary>
    /// Joins fragments and drops events below <see cref="NextRevision"/> (never deliver a revision twice, even
    /// if a server repeats one after a resume). Returns null while a fragmented response is incomplete.
    /// Advances the resume point past the last returned event.
    /// </summary>
    public IReadOnlyList<Event>? Accept(IReadOnlyList<Event> events, bool fragment)
    {
        if (fragment)
        {
            (Fragments ??= []).AddRange(events);
            return null;
        }

        if (Fragments is { } parts)
        {
            parts.AddRange(events);
            events = parts;
            Fragments = null;
        }

        var fresh = events.Where(e => e.Kv.ModRevision >= NextRevision).ToList();
        if (fresh.Count > 0)
        {
            NextRevision = fresh[^1].Kv.ModRevision + 1;
        }

        return fresh;
    }

    /// <summary>A progress notification says nothing is left below its revision: resume after it.</summary>
    public void OnProgress(long headerRevision) => NextRevision = Math.Max(NextRevision, headerRevision + 1);

    /// <summary>Forgets the server-side state when the stream broke; the watch is re-created from <see cref="NextRevision"/>.</summary>
    public void OnStreamLost()
    {
        WatchId = -1;
        Fragments = null;
    }

    public WatchRequest BuildCreate()
    {
        var create = _template.Clone();
        create.StartRevision = NextRevision;
        return new WatchRequest { CreateRequest = create };
    }

    /// <summary>Ends the watch; the reader sees the events already queued, then <paramref name="reason"/> (or the end).</summary>
    public void End(Exception? reason)
    {
        Created.TrySetException(reason ?? new OperationCanceledException("watch canceled before it was created"));
        Events.Writer.TryComplete(reason);
    }
}
