namespace ControlPlane.ZooKeeper.Internal;

/// <summary>The kinds of watch a request leaves behind when it succeeds.</summary>
internal enum WatchKind
{
    None,
    Data,
    Exist,
    Child,
    Persistent,
    PersistentRecursive,
}

/// <summary>A request sent (or about to be sent) on a connection, waiting for its reply in FIFO order.
/// The reader loop completes it; the heartbeat times it out; caller cancellation cancels it. Whichever
/// comes first wins and the others are no-ops, so a late reply after a timeout is consumed and dropped.</summary>
internal abstract class PendingReply
{
    protected PendingReply(OpCode op, string? path)
    {
        Op = op;
        Path = path;
        StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    public OpCode Op { get; }

    /// <summary>The path as the caller gave it (no chroot), for exceptions.</summary>
    public string? Path { get; }

    /// <summary>Assigned by the writer loop right before the frame goes out.</summary>
    public int Xid { get; set; }

    /// <summary><see cref="System.Diagnostics.Stopwatch"/> ticks at creation: the request duration metric only
    /// (a measurement, nothing is decided on it).</summary>
    public long StartTimestamp { get; }

    /// <summary>Timestamp (of the session's <see cref="TimeProvider"/>) when the writer loop took it for sending.</summary>
    public long SentTimestamp { get; set; }

    /// <summary>Timestamp (same clock) after which the heartbeat fails it; long.MaxValue for none.</summary>
    public long DeadlineTicks { get; set; } = long.MaxValue;

    /// <summary>The watch to register when the reply succeeds (null for none).</summary>
    public WatchRegistration? Watch { get; init; }

    public abstract bool IsCompleted { get; }

    /// <summary>Consumes the reply body (the reader stands right after the reply header).</summary>
    public abstract void Complete(int err, ref JuteReader body, IReplyContext context);

    public abstract bool Fail(Exception exception);

    public abstract void Cancel();
}

/// <summary>What a reply parser may need from its session.</summary>
internal interface IReplyContext
{
    /// <summary>Strips the chroot from a server path.</summary>
    string ToClientPath(string serverPath);

    /// <summary>Registers a watch whose request succeeded.</summary>
    void RegisterWatch(WatchRegistration registration);

    /// <summary>Records the outcome of a request for metrics.</summary>
    void RecordCompletion(PendingReply request, int err);
}

/// <summary>A watch to register: the kind, the client path and where its events go
/// (a TaskCompletionSource for one-shot watches, a <see cref="PersistentWatch"/> otherwise).</summary>
internal sealed record WatchRegistration(WatchKind Kind, string Path, object Sink);

/// <summary>Turns a successful reply body into the caller's result.</summary>
internal delegate T ReplyParser<T>(ref JuteReader body, IReplyContext context, object? state);

/// <summary>A pending request whose result is <typeparamref name="T"/>.</summary>
internal sealed class PendingReply<T> : PendingReply
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ReplyParser<T> _parser;
    private CancellationTokenRegistration _cancellation;

    public PendingReply(OpCode op, string? path, ReplyParser<T> parser, object? state = null)
        : base(op, path)
    {
        _parser = parser;
        State = state;
    }

    /// <summary>Extra input of the parser (e.g. the operations of a multi).</summary>
    public object? State { get; }

    /// <summary>Exists answers NoNode with a null result (and still registers its watch).</summary>
    public bool NoNodeIsResult { get; init; }

    public Task<T> Task => _completion.Task;

    public override bool IsCompleted => _completion.Task.IsCompleted;

    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
            _cancellation = cancellationToken.UnsafeRegister(static s => ((PendingReply)s!).Cancel(), this);
    }

    public override void Complete(int err, ref JuteReader body, IReplyContext context)
    {
        context.RecordCompletion(this, err);
        if (err != 0 && !(err == (int)ErrorCode.NoNode && NoNodeIsResult))
        {
            Fail(ZooKeeperException.Create((ErrorCode)err, Path));
            return;
        }

        // Parse before registering: a malformed body must break the connection, not leave a watch behind.
        T value;
        try
        {
            value = err == 0 ? _parser(ref body, context, State) : default!;
        }
        catch (ZooKeeperException ex)
        {
            // An outcome the parser found in the body (a failed multi), not a broken stream.
            Fail(ex);
            return;
        }

        // A caller that already gave up (timeout, cancellation) will never observe the watch: do not leave it.
        // An exists watch on a node that exists is a data watch to the server, and must be re-registered as
        // one after a reconnect: re-sent as an exist watch, the server would not report a deletion that
        // happened while the client was away (it only reports creations for exist watches).
        if (Watch is not null && !_completion.Task.IsCompleted)
            context.RegisterWatch(Watch.Kind == WatchKind.Exist && err == 0 ? Watch with { Kind = WatchKind.Data } : Watch);
        _cancellation.Dispose();
        _completion.TrySetResult(value);
    }

    public override bool Fail(Exception exception)
    {
        _cancellation.Dispose();
        return _completion.TrySetException(exception);
    }

    public override void Cancel() => _completion.TrySetCanceled();
}
