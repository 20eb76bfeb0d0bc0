using Google.Protobuf;

namespace ControlPlane.Etcd;

/// <summary>What a watch observes and from where.</summary>
public sealed record EtcdWatchOptions
{
    /// <summary>Exclusive end of the watched range; null watches the single key. Use
    /// <see cref="EtcdKeys.PrefixEnd(string)"/> for a prefix (or <see cref="EtcdClient.WatchPrefixAsync"/>).</summary>
    /// <value>null.</value>
    public ByteString? RangeEnd { get; init; }

    /// <summary>First revision to deliver events from (inclusive). 0 means "from now": events after the revision
    /// current when the server acknowledged the watch. Use a list's header revision + 1 to watch what follows it.</summary>
    /// <value>0.</value>
    public long StartRevision { get; init; }

    /// <summary>Deliver each event's previous key-value (Event.PrevKv).</summary>
    /// <value>false.</value>
    public bool PrevKv { get; init; }

    /// <summary>Ask the server for periodic progress notifications (empty batches carrying the current revision)
    /// while idle; etcd sends them about every 10 minutes. See also <see cref="EtcdClient.RequestWatchProgressAsync"/>.</summary>
    /// <value>false.</value>
    public bool ProgressNotify { get; init; }

    /// <summary>Skip PUT events.</summary>
    /// <value>false.</value>
    public bool NoPut { get; init; }

    /// <summary>Skip DELETE events.</summary>
    /// <value>false.</value>
    public bool NoDelete { get; init; }
}
