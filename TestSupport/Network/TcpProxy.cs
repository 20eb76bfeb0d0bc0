using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ControlPlane.TestSupport;

/// <summary>
/// A loopback TCP proxy between a client and one server, for partition tests: it passes traffic, pauses it
/// (black hole), delays it, cuts every connection, refuses new ones, or loses the answer to one request.
/// </summary>
/// <remarks>
/// Give the client <see cref="Address"/> instead of the server's. A pause keeps connections open and holds
/// data back in both directions (what a client sees when the network silently drops packets); data held
/// while paused is delivered on <see cref="Resume"/>, as TCP would once the path heals.
/// </remarks>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<ProxyConnection, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private volatile TaskCompletionSource _resumed = CompletedGate();
    private int _cutArmedMinimumBytes;
    private TimeSpan _cutGrace;
    private volatile bool _droppingResponses;
    private int _cuts;

    private TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The port the proxy listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>: the address to give the client.</summary>
    public string Address => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>One-way latency added to every chunk in each direction. <value>zero.</value></summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Sees each connection's traffic as it is forwarded: called when a connection opens, and the action it
    /// returns gets every chunk of that connection just before it is sent on (true: toward the server). The two
    /// directions call it from different tasks, each in its own order. <value>null: nothing is observed.</value></summary>
    public Func<Action<bool, ReadOnlyMemory<byte>>>? Observer { get; set; }

    /// <summary>When true, new connections are reset at once (a server that is down). <value>false.</value></summary>
    public bool RejectNew { get; set; }

    /// <summary>True between <see cref="Pause"/> and <see cref="Resume"/>.</summary>
    public bool IsPaused => !_resumed.Task.IsCompleted;

    /// <summary>Connections open through the proxy now.</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>Connections accepted since the proxy started.</summary>
    public int TotalConnections => _totalConnections;

    private int _totalConnections;

    /// <summary>Starts a proxy to <paramref name="targetHost"/>:<paramref name="targetPort"/>.</summary>
    public static TcpProxy Start(string targetHost, int targetPort)
    {
        var address = IPAddress.TryParse(targetHost, out var ip) ? ip : Dns.GetHostAddresses(targetHost)[0];
        return new TcpProxy(new IPEndPoint(address, targetPort));
    }

    /// <summary>Starts a proxy to a <c>host:port</c> address.</summary>
    public static TcpProxy Start(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        return Start(hostAndPort[..colon], int.Parse(hostAndPort.AsSpan(colon + 1), CultureInfo.InvariantCulture));
    }

    /// <summary>Black-holes traffic: nothing is forwarded either way until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        // Swap in an uncompleted gate once; concurrent pauses share it.
        var current = _resumed;
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _resumed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }

    /// <summary>Ends a pause; held data flows again.</summary>
    public void Resume() => _resumed.TrySetResult();

    /// <summary>Cuts made by <see cref="CutAfterNextRequest"/> so far.</summary>
    public int RequestCuts => Volatile.Read(ref _cuts);

    /// <summary>
    /// Arms a one-shot "lost answer": the next chunk of at least <paramref name="minimumBytes"/> that a client
    /// sends is forwarded to the server, nothing the server sends back reaches any client from then on, and
    /// <paramref name="grace"/> later (time for the server to apply the request) every connection is reset and
    /// the proxy passes traffic normally again. The client sees its request fail after it reached the server,
    /// which is when a write's outcome is unknown to it.
    /// </summary>
    /// <param name="minimumBytes">Smaller chunks (HTTP/2 pings, window updates) are forwarded without arming the cut.</param>
    /// <param name="grace">How long the server gets to apply the request before the reset.</param>
    public void CutAfterNextRequest(int minimumBytes, TimeSpan grace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumBytes, 1);
        _cutGrace = grace;
        Volatile.Write(ref _cutArmedMinimumBytes, minimumBytes);
    }

    /// <summary>Resets every open connection: both ends see a connection reset.</summary>
    public void CutAll()
    {
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }
    }

    /// <summary>Stops listening and resets every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Resume();
        _listener.Dispose();
        CutAll();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected on dispose.
        }

        _stopping.Dispose();
    }

    internal Task WaitResumedAsync(CancellationToken cancellationToken) =>
        _resumed.Task.WaitAsync(cancellationToken);

    /// <summary>True while an armed cut is swallowing what servers send.</summary>
    internal bool DropsResponses => _droppingResponses;

    /// <summary>Called before a chunk goes from a client to the server: fires an armed cut.</summary>
    internal void OnForwardingRequest(int bytes)
    {
        var minimum = Volatile.Read(ref _cutArmedMinimumBytes);
        if (minimum == 0 || bytes < minimum || Interlocked.CompareExchange(ref _cutArmedMinimumBytes, 0, minimum) != minimum)
        {
            return;
        }

        // Set before the request leaves, so no answer to it can get through.
        _droppingResponses = true;
        _ = CutAfterGraceAsync();
    }

    private async Task CutAfterGraceAsync()
    {
        try
        {
            // Not a retry: the fault being injected is "the answer never came", and this is how long the
            // server has to apply the request before the connection dies.
            await Task.Delay(_cutGrace, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposed: DisposeAsync resets every connection itself.
        }

        // Counted first: a client that sees the reset may look at RequestCuts at once.
        Interlocked.Increment(ref _cuts);
        CutAll();
        _droppingResponses = false;
    }

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _totalConnections);
            if (RejectNew)
            {
                ProxyConnection.Reset(client);
                continue;
            }

            var connection = new ProxyConnection(this, client, _target);
            _connections[connection] = 0;
            _ = RunAsync(connection);
        }
    }

    private async Task RunAsync(ProxyConnection connection)
    {
        try
        {
            await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }
}
