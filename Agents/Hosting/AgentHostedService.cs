using ControlPlane.Agents.Diagnostics;
using ControlPlane.Agents.Execution;
using ControlPlane.Agents.Executors;
using ControlPlane.Agents.Runtime;
using ControlPlane.Coordination.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agents.Hosting;

/// <summary>
/// Hosts one <see cref="AgentRuntime"/>: waits for the store, runs the agent, drains it when the host stops, and
/// stops the host when the agent ends on its own (a drain record, or a fatal error). If the host's shutdown timeout
/// runs out during a drain, every attempt is killed at once.
/// </summary>
internal sealed class AgentHostedService(
    StoreConnection connection,
    IOptions<AgentOptions> options,
    IOptions<ShellExecutorOptions> shellOptions,
    IServiceProvider services,
    IEnumerable<JobHandlerRegistration> handlers,
    IEnumerable<IExecutionObserver> observers,
    ILoggerFactory loggerFactory,
    TimeProvider time,
    IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly CancellationTokenSource _beforeConnect = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger<AgentHostedService>();
    private readonly Lock _lock = new();
    private Task _run = Task.CompletedTask;
    private AgentRuntime? _runtime;
    private AgentHttpEndpoint? _http;
    private bool _stopping;

    /// <summary>The running agent, once the store is connected (tests read its worker id).</summary>
    internal AgentRuntime? Runtime
    {
        get
        {
            lock (_lock)
            {
                return _runtime;
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var runtimeOptions = options.Value;
        if (runtimeOptions.Http.Port is not null)
        {
            // Before the store is reached: /healthz then says so (503) instead of refusing connections.
            _http = AgentHttpEndpoint.Start(runtimeOptions.Http, runtimeOptions.Id, Health, _logger);
        }

        // After the exporters listen (the port's, and the host's: hosted services start after its metrics listeners).
        AgentMetrics.ZeroRareSeries();
        List<IExecutionObserver> all = [.. observers];
        if (runtimeOptions.ExecutionLog is { } path)
        {
            all.Add(ExecutionLogFile.For(path));
        }

        var shell = shellOptions.Value;
        var registry = new ExecutorRegistry(new ShellExecutor(shellOptions, time), new HandlerExecutor(services, shell, time), handlers, shell.Enabled);
        connection.Start();
        _run = Task.Run(() => RunAsync(runtimeOptions, registry, all, shell.GracePeriod), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        AgentRuntime? runtime;
        lock (_lock)
        {
            _stopping = true;
            runtime = _runtime;
        }

        await _beforeConnect.CancelAsync().ConfigureAwait(false);
        runtime?.RequestDrain(DrainCause.HostStopping);
        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host will not wait any longer: kill, do not report.
            runtime?.Abort();
            await _run.WaitAsync(TimeSpan.FromSeconds(5), time, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            // Last: a drain stays observable (/healthz, /metrics) until it has ended.
            _http?.Dispose();
        }
    }

    /// <summary>The agent's health for <c>/healthz</c>.</summary>
    internal AgentHealth Health() => Runtime?.Health() ?? AgentHealth.NotConnected;

    private async Task RunAsync(AgentOptions runtimeOptions, ExecutorRegistry registry, List<IExecutionObserver> all, TimeSpan grace)
    {
        try
        {
            var store = await connection.Connected.WaitAsync(_beforeConnect.Token).ConfigureAwait(false);
            var runtime = new AgentRuntime(store, runtimeOptions, registry, all, loggerFactory, time, grace);
            bool stopping;
            lock (_lock)
            {
                _runtime = runtime;
                stopping = _stopping;
            }

            if (stopping)
            {
                runtime.RequestDrain(DrainCause.HostStopping);
            }

            var cause = await runtime.RunAsync(CancellationToken.None).ConfigureAwait(false);
            if (cause != DrainCause.HostStopping)
            {
                lifetime.StopApplication();
            }
        }
        catch (OperationCanceledException) when (_beforeConnect.IsCancellationRequested)
        {
            // Stopped before the store was reached, or aborted.
        }
        catch (Exception e)
        {
            AgentLog.LoopFailed(_logger, e, "agent");
            // A supervisor must see a failure, not a clean exit, so it can restart or alert.
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }
}
