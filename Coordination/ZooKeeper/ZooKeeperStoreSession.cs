using System.Runtime.CompilerServices;
using ControlPlane.ZooKeeper;
using ZkState = ControlPlane.ZooKeeper.ConnectionState;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>
/// One ZooKeeper session as an <see cref="IStoreSession"/>. The object exists from the moment the store starts
/// opening the session (state Connecting, id 0) until it expires or closes; a new session is a new object.
/// </summary>
internal sealed class ZooKeeperStoreSession : IStoreSession
{
    private readonly TaskCompletionSource<ZooKeeperClient> _client = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _requested;
    private int _closing;

    public ZooKeeperStoreSession(TimeSpan requestedTimeout) => _requested = requestedTimeout;

    /// <summary>Completes with the client once the session is open.</summary>
    public Task<ZooKeeperClient> Client => _client.Task;

    public long Id => CurrentClient?.SessionId ?? 0;

    public TimeSpan Timeout => CurrentClient?.NegotiatedSessionTimeout ?? _requested;

    public TimeSpan RequestedTimeout => _requested;

    public SessionState State => CurrentClient is { } client
        ? Map(client.State)
        : _ended.Task.IsCompleted ? SessionState.Closed : SessionState.Connecting;

    public TimeSpan ProvablyAliveFor => CurrentClient?.ProvablyAliveFor ?? TimeSpan.Zero;

    public Task Ended => _ended.Task;

    /// <summary>True once <see cref="CloseAsync"/> was called: an end that follows is ours, not an expiry.</summary>
    public bool Closing => Volatile.Read(ref _closing) != 0;

    private ZooKeeperClient? CurrentClient => _client.Task.IsCompletedSuccessfully ? _client.Task.Result : null;

    public async IAsyncEnumerable<SessionState> WatchStateAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (CurrentClient is null)
        {
            yield return State;
            // Faulted only when closed before it ever opened.
            await ((Task)_client.Task).ContinueWith(static _ => { }, cancellationToken, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            if (CurrentClient is null)
            {
                yield return SessionState.Closed;
                yield break;
            }
        }

        var last = (SessionState?)null;
        await foreach (var change in CurrentClient!.WatchStateAsync(cancellationToken).ConfigureAwait(false))
        {
            var state = Map(change.State);
            if (state != last)
            {
                last = state;
                yield return state;
            }
        }
    }

    /// <summary>Hands over the opened client and follows it until it ends.</summary>
    public void Opened(ZooKeeperClient client)
    {
        _client.TrySetResult(client);
        _ = FollowAsync(client);
    }

    /// <summary>Closes the session (its ephemeral nodes go at once), or gives up opening it.</summary>
    public async Task CloseAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        if (_client.TrySetException(new InvalidOperationException("The session was closed before it opened.")))
        {
            _ = _client.Task.Exception; // observed: nobody may be waiting
            _ended.TrySetResult();
            return;
        }

        await (await _client.Task.ConfigureAwait(false)).CloseAsync().ConfigureAwait(false);
        _ended.TrySetResult();
    }

    private async Task FollowAsync(ZooKeeperClient client)
    {
        await foreach (var change in client.WatchStateAsync().ConfigureAwait(false))
        {
            if (change.State is ZkState.Expired or ZkState.Closed)
            {
                break;
            }
        }

        _ended.TrySetResult();
    }

    private static SessionState Map(ZkState state) => state switch
    {
        ZkState.Connecting => SessionState.Connecting,
        ZkState.Connected => SessionState.Connected,
        ZkState.Suspended => SessionState.Suspended,
        ZkState.Expired => SessionState.Lost,
        _ => SessionState.Closed,
    };
}
