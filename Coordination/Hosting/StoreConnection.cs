using ControlPlane.Coordination.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Coordination.Hosting;

/// <summary>
/// Owns a process's one connection to the store: connects in the background through the
/// <see cref="StoreRetries.Reconnect"/> pipeline until it succeeds (a process may start before its store), and hands the connected store to whoever asks.
/// Directors and agents register one as a singleton; requests that arrive before the store is reachable wait
/// at most <see cref="StoreOptions.RequestTimeout"/> and then get a <see cref="StoreUnavailableException"/>.
/// </summary>
public sealed class StoreConnection : IAsyncDisposable
{
    private readonly StoreOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource<ICoordinationStore> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private int _started;

    /// <summary>Creates the connection; nothing happens until <see cref="Start"/>.</summary>
    public StoreConnection(StoreOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<StoreConnection>();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The validated options this connection uses.</summary>
    public StoreOptions Options => _options;

    /// <summary>The store, once connected; null before.</summary>
    public ICoordinationStore? Current => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : null;

    /// <summary>Completes with the store once it is connected.</summary>
    public Task<ICoordinationStore> Connected => _ready.Task;

    /// <summary>Starts connecting in the background (idempotent).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _loop = Task.Run(() => ConnectLoopAsync(_stop.Token));
        }
    }

    /// <summary>The store, waiting up to the request timeout for the first connection.</summary>
    /// <exception cref="StoreUnavailableException">The store has not been reached yet.</exception>
    public async Task<ICoordinationStore> GetAsync(CancellationToken cancellationToken = default)
    {
        Start();
        if (_ready.Task.IsCompletedSuccessfully)
        {
            return _ready.Task.Result;
        }

        try
        {
            return await _ready.Task.WaitAsync(_options.RequestTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new StoreUnavailableException(
                $"The {_options.Backend} store at {_options.EffectiveEndpoints} has not been reached yet.", e);
        }
    }

    private async Task ConnectLoopAsync(CancellationToken cancellationToken)
    {
        // Until cancelled: a process may start before its store and must come up by itself once the store does.
        var reconnect = StoreRetries.Reconnect.Build(
            _time,
            e => e is StoreException or IOException or TimeoutException or System.Net.Sockets.SocketException,
            args =>
            {
                if (args.Outcome.Exception is StoreTlsException tls)
                {
                    // Said plainly, every time: a TLS failure is usually a wrong CA, certificate or port, which
                    // retrying does not fix, but a server being re-keyed does recover, so the loop goes on.
                    StoreConnectionLog.TlsFailed(_logger, _options.Backend, _options.EffectiveEndpoints, tls.Message,
                        args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return;
                }

                if (args.Outcome.Exception is StorePermissionException denied)
                {
                    // Not an outage: the credentials are wrong or lack a right. Said at error level, every attempt, until
                    // an operator fixes them in the store or the configuration (the process keeps trying; no restart needed).
                    StoreConnectionLog.CredentialsRefused(_logger, _options.Backend, _options.EffectiveEndpoints, _options.Username ?? "(none)",
                        denied.Message, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return;
                }

                StoreConnectionLog.ConnectFailed(_logger, args.Outcome.Exception!, _options.Backend, _options.EffectiveEndpoints,
                    args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
            });
        try
        {
            var store = await reconnect.ExecuteAsync(
                ct => new ValueTask<ICoordinationStore>(_options.ConnectAsync(_loggerFactory, _time, ct)), cancellationToken).ConfigureAwait(false);
            StoreConnectionLog.Connected(_logger, _options.Backend, _options.EffectiveEndpoints, _options.EffectiveRoot, store.Session.Timeout.TotalSeconds);
            _ready.TrySetResult(store);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed before the store was reached (a connect cut short fails as it likes).
        }
    }

    /// <summary>Stops connecting and closes the store (its session ends: ephemeral keys vanish at once).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_ready.Task.IsCompletedSuccessfully)
        {
            await _ready.Task.Result.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _ready.TrySetException(new ObjectDisposedException(nameof(StoreConnection)));
        }

        _stop.Dispose();
    }
}

/// <summary>The store has not been reached (yet); the request may be retried later.</summary>
public sealed class StoreUnavailableException : StoreException
{
    /// <summary>Creates the exception.</summary>
    public StoreUnavailableException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public StoreUnavailableException() : this("The store is unavailable.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreUnavailableException(string message) : this(message, null)
    {
    }
}

internal static partial class StoreConnectionLog
{
    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Connected to the {Backend} store at {Endpoints} (root /{Root}, session timeout {TimeoutSeconds} s)")]
    public static partial void Connected(ILogger logger, string backend, string endpoints, string root, double timeoutSeconds);

    [LoggerMessage(EventId = 604, Level = LogLevel.Error, Message = "The {Backend} store at {Endpoints} refused identity '{User}' (attempt {Attempt}; retrying in about {DelaySeconds} s): {Reason}")]
    public static partial void CredentialsRefused(ILogger logger, string backend, string endpoints, string user, string reason, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "Could not reach the {Backend} store at {Endpoints} (attempt {Attempt}); retrying in about {DelaySeconds} s")]
    public static partial void ConnectFailed(ILogger logger, Exception exception, string backend, string endpoints, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 603, Level = LogLevel.Error, Message = "TLS to the {Backend} store at {Endpoints} failed (attempt {Attempt}): {Reason}. Check Store:Tls:CaFile, CertFile and KeyFile against the servers' TLS settings; retrying in about {DelaySeconds} s")]
    public static partial void TlsFailed(ILogger logger, string backend, string endpoints, string reason, int attempt, double delaySeconds);
}
