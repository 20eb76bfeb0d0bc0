using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ControlPlane.Coordination;

namespace ControlPlane.TestSupport.Coordination;

/// <summary>A session of an <see cref="InMemoryStore"/> whose connectivity a test controls.</summary>
public sealed class InMemorySession : IStoreSession
{
    private readonly InMemoryStoreServer _server;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<ChannelWriter<SessionState>> _watchers = [];
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SessionState _state = SessionState.Connected;
    private long _suspendedAt;

    internal InMemorySession(InMemoryStoreServer server, TimeSpan timeout, TimeProvider time)
    {
        _server = server;
        _time = time;
        Timeout = timeout;
        Id = server.NewSessionId();
    }

    /// <inheritdoc />
    public long Id { get; }

    /// <inheritdoc />
    public TimeSpan Timeout { get; }

    /// <inheritdoc />
    public TimeSpan RequestedTimeout => Timeout;

    /// <inheritdoc />
    public SessionState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <inheritdoc />
    public TimeSpan ProvablyAliveFor
    {
        get
        {
            lock (_lock)
            {
                return _state switch
                {
                    SessionState.Connected => Timeout,
                    SessionState.Suspended => Timeout - _time.GetElapsedTime(_suspendedAt),
                    _ => TimeSpan.Zero,
                };
            }
        }
    }

    /// <inheritdoc />
    public Task Ended => _ended.Task;

    /// <summary>Cuts this client off from the store: operations fail, the session may still be alive.</summary>
    public void Suspend()
    {
        lock (_lock)
        {
            if (_state != SessionState.Connected)
            {
                return;
            }

            _suspendedAt = _time.GetTimestamp();
            Set(SessionState.Suspended);
        }
    }

    /// <summary>Restores contact; the session (and its ephemeral keys) survived.</summary>
    public void Reconnect()
    {
        lock (_lock)
        {
            if (_state == SessionState.Suspended)
            {
                Set(SessionState.Connected);
            }
        }
    }

    /// <summary>The store expires the session: its ephemeral keys are deleted.</summary>
    public void Expire() => End(SessionState.Lost);

    internal void Close() => End(SessionState.Closed);

    /// <inheritdoc />
    public async IAsyncEnumerable<SessionState> WatchStateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<SessionState>();
        lock (_lock)
        {
            channel.Writer.TryWrite(_state);
            if (_state is SessionState.Lost or SessionState.Closed)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _watchers.Add(channel.Writer);
            }
        }

        await foreach (var state in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return state;
        }
    }

    private void End(SessionState final)
    {
        lock (_lock)
        {
            if (_state is SessionState.Lost or SessionState.Closed)
            {
                return;
            }

            _server.EndSession(Id);
            Set(final);
            foreach (var watcher in _watchers)
            {
                watcher.TryComplete();
            }

            _watchers.Clear();
        }

        _ended.TrySetResult();
    }

    private void Set(SessionState state)
    {
        _state = state;
        foreach (var watcher in _watchers)
        {
            watcher.TryWrite(state);
        }
    }
}
