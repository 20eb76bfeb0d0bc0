using System.Collections.Concurrent;
using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace ControlPlane.IntegrationTests.ZooKeeper;

/// <summary>Shared helpers: isolated chroots, clients with test-friendly timeouts, state and log recorders.</summary>
internal static class ZooKeeperTesting
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task<ZooKeeperClient> ConnectAsync(
        string connectionString, Action<ZooKeeperClientOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        var options = new ZooKeeperClientOptions
        {
            ConnectionString = connectionString,
            SessionTimeout = TimeSpan.FromSeconds(4),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            RequestTimeout = TimeSpan.FromSeconds(20),
        };
        configure?.Invoke(options);
        return await ZooKeeperClient.ConnectAsync(options, loggerFactory);
    }

    /// <summary>Creates a fresh top-level node and returns the connection string chrooted to it.</summary>
    public static async Task<string> NewChrootAsync(string servers, string hint = "zk")
    {
        var chroot = "/" + TestNames.Unique(hint);
        await using var admin = await ConnectAsync(servers);
        await admin.CreateAsync(chroot, default);
        return servers + chroot;
    }
}

/// <summary>Records every state transition of a client.</summary>
internal sealed class StateRecorder : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    public StateRecorder(ZooKeeperClient client)
    {
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in client.WatchStateAsync(_stop.Token))
                    Changes.Enqueue(change);
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    public ConcurrentQueue<ConnectionStateChange> Changes { get; } = new();

    /// <summary>Completes once the client's state stream has ended (it ends after reporting Expired or Closed)
    /// and every change is recorded: count only after it, or the last change may still be on its way.</summary>
    public Task Completed => _pump;

    public int Count(ConnectionState state) => Changes.Count(c => c.State == state);

    public override string ToString() => string.Join(" -> ", Changes.Select(c => c.State));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        _stop.Dispose();
    }
}

/// <summary>An ILoggerFactory that keeps formatted messages with their event names.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Messages.Enqueue($"{eventId.Name}: {formatter(state, exception)} @{DateTime.UtcNow:HH:mm:ss.fff}");
    }
}
