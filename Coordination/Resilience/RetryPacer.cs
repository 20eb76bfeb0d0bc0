using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Polly;
using Polly.Retry;

namespace ControlPlane.Coordination.Resilience;

/// <summary>
/// Takes the pauses of a retry loop that cannot run inside a delegate from a <see cref="RetryShape"/>'s pipeline: an
/// async iterator yields between its attempts, a pull-based reader returns between them. The loop reports each
/// failure to <see cref="PauseAfterAsync"/>, which returns once the pipeline's pause is over (the pauses grow while
/// failures follow each other) or throws the failure once the shape's retries are spent; after an attempt that
/// worked it calls <see cref="Reset"/>, and the next failure starts from the first pause again. One execution of the
/// pipeline spans one outage: each of its attempts waits for the loop to report how its own attempt went. For one
/// loop at a time; dispose it with the loop.
/// </summary>
/// <param name="shape">The named shape of the pauses and their limit.</param>
/// <param name="time">Clock of the pauses (fake in tests).</param>
/// <param name="onRetry">Called before each pause (logging); may be null.</param>
/// <param name="randomizer">Source of jitter in [0, 1); tests pin it. Polly's by default.</param>
public sealed class RetryPacer(
    RetryShape shape, TimeProvider time, Action<OnRetryArguments<object>>? onRetry = null, Func<double>? randomizer = null) : IDisposable
{
    private readonly ResiliencePipeline _pipeline = shape.Build(time, _ => true, onRetry, randomizer);
    private Outage? _outage;
    private bool _disposed;

    /// <summary>Reports a failed attempt and waits out the pause before the next one.</summary>
    /// <param name="failure">Why the attempt failed; thrown again once the shape gives up.</param>
    /// <param name="cancellationToken">Ends the wait (not the outage).</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired during the pause.</exception>
    public async Task PauseAfterAsync(Exception failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var outage = _outage ??= new Outage(_pipeline);
        try
        {
            await outage.FailedAsync(failure, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The shape gave up, or the caller did: the next failure starts a new outage.
            Reset();
            throw;
        }
    }

    /// <summary>An attempt worked: the outage is over, the next failure pauses from the first delay again.</summary>
    public void Reset()
    {
        _outage?.Dispose();
        _outage = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _disposed = true;
        Reset();
    }

    /// <summary>One execution of the pipeline, fed with the loop's failures.</summary>
    private sealed class Outage : IDisposable
    {
        private readonly Channel<Exception> _failures = Channel.CreateUnbounded<Exception>(new UnboundedChannelOptions { SingleReader = true });
        private readonly SemaphoreSlim _next = new(0);
        private readonly CancellationTokenSource _end = new();
        private readonly Task _execution;
        private bool _started;

        public Outage(ResiliencePipeline pipeline) =>
            _execution = pipeline.ExecuteAsync(async token =>
            {
                if (_started)
                {
                    // The pipeline's pause after the last failure is over: the loop may try again.
                    _next.Release();
                }

                _started = true;
                ExceptionDispatchInfo.Throw(await _failures.Reader.ReadAsync(token).ConfigureAwait(false));
            }, _end.Token).AsTask();

        public async Task FailedAsync(Exception failure, CancellationToken cancellationToken)
        {
            _failures.Writer.TryWrite(failure);
            var pause = _next.WaitAsync(cancellationToken);
            if (await Task.WhenAny(pause, _execution).ConfigureAwait(false) == _execution)
            {
                // Gave up: the failure comes back as the pipeline's outcome.
                await _execution.ConfigureAwait(false);
            }

            await pause.ConfigureAwait(false);
        }

        public void Dispose()
        {
            _end.Cancel();
            _ = _execution.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _failures.Writer.TryComplete();
        }
    }
}
