using ControlPlane.Contracts;

namespace ControlPlane.Agents.Executors;

/// <summary>A handler registered with <c>AddJobHandler</c>, by executor name.</summary>
internal sealed record JobHandlerRegistration(string Name);

/// <summary>Runs in-process handlers: a new handler from a DI scope per attempt, cancelled through its token.</summary>
internal sealed class HandlerExecutor(IServiceProvider services, ShellExecutorOptions shell, TimeProvider time) : IExecutor
{
    public Task<RunningExecution> StartAsync(ExecutionRequest request)
    {
        var scope = services.CreateAsyncScope();
        IJobHandler handler;
        try
        {
            handler = scope.ServiceProvider.GetKeyedService<IJobHandler>(request.Executor)
                ?? throw new ExecutorStartException($"No handler named '{request.Executor}' is registered on this agent.");
        }
        catch
        {
            _ = scope.DisposeAsync().AsTask();
            throw;
        }

        var context = new JobContext(request.JobId, request.Attempt, request.Epoch, request.WorkerId, request.Args, request.Env, request.Progress)
        {
            TraceParent = request.TraceParent,
        };
        return Task.FromResult<RunningExecution>(new HandlerExecution(handler, context, scope, shell.GracePeriod, time));
    }
}

/// <summary>One handler call. A stop cancels its token; a handler that does not return within the grace period (or
/// at once, when killed) is abandoned: the attempt ends without it, and whatever it still does is the gap that the
/// fencing token covers (docs/agent.md).</summary>
internal sealed class HandlerExecution : RunningExecution
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource<ExecutionOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _grace;
    private readonly TimeProvider _time;
    private ITimer? _abandonTimer;

    public HandlerExecution(IJobHandler handler, JobContext context, AsyncServiceScope scope, TimeSpan grace, TimeProvider time)
    {
        _grace = grace;
        _time = time;
        _ = RunAsync(handler, context, scope);
    }

    public override Task<ExecutionOutcome> Completion => _completion.Task;

    public override void RequestStop()
    {
        if (_completion.Task.IsCompleted || _abandonTimer is not null)
        {
            return;
        }

        Cancel();
        _abandonTimer = _time.CreateTimer(static s => ((HandlerExecution)s!).Abandon(), this, _grace, Timeout.InfiniteTimeSpan);
    }

    public override void Kill()
    {
        Cancel();
        Abandon();
    }

    private void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (Exception e) when (e is ObjectDisposedException or AggregateException)
        {
            // Already over, or a callback of the handler threw: the token is cancelled either way.
        }
    }

    private void Abandon() =>
        _completion.TrySetResult(new ExecutionOutcome(null, "", "The handler did not stop when cancelled; it was abandoned."));

    private async Task RunAsync(IJobHandler handler, JobContext context, AsyncServiceScope scope)
    {
        ExecutionOutcome outcome;
        try
        {
            // Off the caller's thread: a handler that blocks before its first await must not stall the agent.
            var result = await Task.Run(() => handler.RunAsync(context, _cancel.Token), CancellationToken.None).ConfigureAwait(false);
            outcome = new ExecutionOutcome(result.ExitCode, OutputTail.Truncate(result.Output, Limits.OutputTailBytes), result.Error);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            outcome = new ExecutionOutcome(null, "", "The handler stopped on cancellation.");
        }
        catch (Exception e)
        {
            outcome = new ExecutionOutcome(null, "", $"The handler threw {e.GetType().Name}: {e.Message}");
        }

        _abandonTimer?.Dispose();
        _completion.TrySetResult(outcome);
        await scope.DisposeAsync().ConfigureAwait(false);
        _cancel.Dispose();
    }
}
