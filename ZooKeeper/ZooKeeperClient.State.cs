using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    // Each subscriber has its own small bounded buffer; if one does not read, it loses the oldest transitions
    // but always ends with the latest one (the current state is what matters to a slow reader).
    private const int StateBufferCapacity = 64;

    private readonly Lock _stateLock = new();
    private readonly List<Channel<ConnectionStateChange>> _stateSubscribers = [];
    private ConnectionState _state = ConnectionState.Connecting;
    // False until the first transition: the metrics gauge must not decrement a state never counted.
    private bool _stateReported;
    private bool _subscribersCompleted;

    /// <summary>The current state.</summary>
    public ConnectionState State
    {
        get
        {
            lock (_stateLock)
                return _state;
        }
    }

    /// <summary>The current state first, then every transition, until the client is closed or expired (the
    /// stream then ends after reporting it) or <paramref name="cancellationToken"/> fires. Expired is reported
    /// exactly once. A reader that lags more than 64 transitions loses the oldest ones.</summary>
    public async IAsyncEnumerable<ConnectionStateChange> WatchStateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<ConnectionStateChange>(new BoundedChannelOptions(StateBufferCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        // Writing the current state and registering under one lock: no transition can slip in between.
        lock (_stateLock)
        {
            var server = _state == ConnectionState.Connected ? Volatile.Read(ref _connection)?.Server : null;
            channel.Writer.TryWrite(new ConnectionStateChange(_state, _state, SessionId, server, null));
            if (_subscribersCompleted || _state is ConnectionState.Closed or ConnectionState.Expired)
                channel.Writer.TryComplete();
            else
                _stateSubscribers.Add(channel);
        }

        try
        {
            await foreach (var change in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return change;
        }
        finally
        {
            lock (_stateLock)
                _stateSubscribers.Remove(channel);
        }
    }

    /// <summary>Waits until the state is Connected. Throws <see cref="SessionExpiredException"/> if the session
    /// expires first, <see cref="ObjectDisposedException"/> if the client closes.</summary>
    public async Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var change in WatchStateAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (change.State)
            {
                case ConnectionState.Connected:
                    return;
                case ConnectionState.Expired:
                    throw new SessionExpiredException();
                case ConnectionState.Closed:
                    throw new ObjectDisposedException(nameof(ZooKeeperClient));
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw State == ConnectionState.Expired ? new SessionExpiredException() : new ObjectDisposedException(nameof(ZooKeeperClient));
    }

    private void SetState(ConnectionState state, Exception? reason, string? server = null)
    {
        ConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            // Terminal states stay: a late transition (e.g. Suspended racing with Expired) is dropped.
            if (_stateReported && (previous == state || previous is ConnectionState.Expired or ConnectionState.Closed))
                return;
            _state = state;
            var first = !_stateReported;
            _stateReported = true;
            var change = new ConnectionStateChange(state, previous, SessionId, server, reason);
            foreach (var subscriber in _stateSubscribers)
                subscriber.Writer.TryWrite(change);
            if (state is ConnectionState.Expired or ConnectionState.Closed)
                CompleteStateSubscribersLocked();
            ZooKeeperMetrics.StateChanged(previous, state, first);
        }

        Log.StateChanged(_logger, SessionId, previous, state);
    }

    private void CompleteStateSubscribers()
    {
        lock (_stateLock)
            CompleteStateSubscribersLocked();
    }

    private void CompleteStateSubscribersLocked()
    {
        _subscribersCompleted = true;
        foreach (var subscriber in _stateSubscribers)
            subscriber.Writer.TryComplete();
        _stateSubscribers.Clear();
    }
}
