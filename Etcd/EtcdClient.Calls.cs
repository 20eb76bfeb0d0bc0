using System.Diagnostics;
using System.Net.Sockets;
using ControlPlane.Etcd.Internal;
using Google.Protobuf;
using Polly;

namespace ControlPlane.Etcd;

/// <summary>Unary calls: deadline, failover, safe retries and token renewal.</summary>
public sealed partial class EtcdClient
{
    /// <summary>
    /// Runs one unary call within <see cref="EtcdClientOptions.RequestTimeout"/> (on the client's clock), through
    /// the <c>etcd.call</c> pipeline (<see cref="EtcdRetries.BuildCall"/>).
    /// <paramref name="idempotent"/> calls (reads) are retried on another endpoint after Unavailable or a broken
    /// connection; writes only when the connection was never established, because a write that reached a
    /// member may have been applied even though no answer came back. Traced as one client span per call, retries
    /// included (<see cref="ActivitySourceName"/>; with no listener that costs one check).
    /// </summary>
    internal async Task<TResponse> CallAsync<TResponse>(
        string path, IMessage request, MessageParser<TResponse> parser, bool idempotent, CancellationToken cancellationToken,
        bool authenticate = true)
        where TResponse : class, IMessage<TResponse>
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var start = Stopwatch.GetTimestamp();
        using var activity = EtcdTracing.StartCall(path);
        using var budget = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token, budget.Token);
        var call = new UnaryCall<TResponse>(this, path, request, parser, idempotent, authenticate);
        var context = ResilienceContextPool.Shared.Get(deadline.Token);
        context.Properties.Set(EtcdRetries.Attempts, call);
        try
        {
            var response = await _calls.ExecuteAsync(static (context, call) => call.AttemptAsync(context.CancellationToken), context, call)
                .ConfigureAwait(false);
            EtcdMetrics.RecordRequest(path, GrpcStatusCode.OK, start);
            if (activity is not null)
            {
                EtcdTracing.Succeeded(activity, call.Endpoint, call.Attempts);
            }

            return response;
        }
        catch (Exception ex) when (ex is OperationCanceledException or AttemptTimeoutException && !cancellationToken.IsCancellationRequested)
        {
            EtcdMetrics.RecordRequest(path, GrpcStatusCode.DeadlineExceeded, start);
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            throw EtcdTracing.Failed(activity, call.Endpoint, call.Attempts, GrpcStatusCode.DeadlineExceeded, new EtcdTimeoutException(
                $"{path} did not complete within {_options.RequestTimeout.TotalSeconds:0.###} s (last endpoint {call.Endpoint}); a write's outcome is unknown",
                ex));
        }
        catch (Exception ex) when (ex is not (EtcdException or OperationCanceledException))
        {
            EtcdMetrics.RecordRequest(path, GrpcStatusCode.Unavailable, start);
            _endpoints.MarkFailed(call.Endpoint);
            if (TlsFailure(ex) is { } why)
            {
                Log.TlsFailed(_logger, call.Endpoint, why);
                throw EtcdTracing.Failed(activity, call.Endpoint, call.Attempts, GrpcStatusCode.Unavailable, new EtcdTlsException(
                    $"{path}: TLS with {call.Endpoint} failed: {why}", ex));
            }

            throw EtcdTracing.Failed(activity, call.Endpoint, call.Attempts, GrpcStatusCode.Unavailable, new EtcdUnavailableException(
                NotSent(ex) ? $"{path}: could not connect to {call.Endpoint}: {ex.Message}"
                            : $"{path}: connection to {call.Endpoint} failed during the call; the outcome is unknown: {ex.Message}",
                ex));
        }
        catch (EtcdException ex)
        {
            EtcdMetrics.RecordRequest(path, ex.StatusCode, start);
            EtcdTracing.Failed(activity, call.Endpoint, call.Attempts, ex.StatusCode, ex);
            throw;
        }
        catch (OperationCanceledException ex) when (activity is not null)
        {
            // The caller cancelled (or the client was disposed): the span says so rather than ending unset.
            EtcdTracing.Failed(activity, call.Endpoint, call.Attempts, GrpcStatusCode.Cancelled, ex);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Whether a failed attempt may be repeated on another endpoint.</summary>
    internal static bool IsRetryable(Exception ex, bool idempotent)
    {
        if (NotSent(ex))
        {
            return true;
        }

        if (!idempotent)
        {
            return false;
        }

        // A read may be repeated after anything transport-level or a member that cannot serve right now.
        return ex is HttpRequestException or IOException or EtcdUnavailableException
            || (ex is EtcdException { StatusCode: GrpcStatusCode.Unavailable });
    }

    /// <summary>True when the request provably never reached a server: the TCP connection (or its TLS session) was never made.</summary>
    internal static bool NotSent(Exception ex)
    {
        // A failed TLS handshake sends nothing either: the request goes out only over an established session.
        return ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError }
            || (ex is HttpRequestException { InnerException: SocketException se }
                && se.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable);
    }

    /// <summary>What the TLS layer said when <paramref name="ex"/> is a failed TLS handshake, or a TLS session the
    /// server ended before the first HTTP/2 exchange (what a TLS 1.3 server does when it refuses the client's
    /// certificate: the client's side of the handshake has completed by then, so it shows as a broken connection
    /// set-up); null otherwise.</summary>
    internal string? TlsFailure(Exception ex)
    {
        var handshake = ex is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError };
        var setup = false;
        var text = ex.Message;
        for (var inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            handshake |= inner is System.Security.Authentication.AuthenticationException;
            setup |= inner is ObjectDisposedException { ObjectName: "System.Net.Security.SslStream" }
                || (inner is IOException && inner.Message.Contains("HTTP/2 handshake", StringComparison.Ordinal));
            if (!text.Contains(inner.Message, StringComparison.Ordinal))
            {
                text += " -> " + inner.Message;
            }
        }

        if (handshake)
        {
            return text;
        }

        return setup && _options.Tls is not null
            ? "the server ended the TLS session before the first HTTP/2 exchange: it most likely refused the client certificate "
              + $"(not signed by a CA it trusts, or none given) ({text})"
            : null;
    }

    internal static bool IsTokenRejection(EtcdAuthenticationException ex) =>
        ex.Message.Contains("invalid auth token", StringComparison.Ordinal)
        || ex.Message.Contains("token", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One unary call's attempts: each on the preferred endpoint, a read's limited to half the budget when
    /// another endpoint could answer (a black-holed member would otherwise hold it until the whole deadline).
    /// </summary>
    private sealed class UnaryCall<TResponse>(
        EtcdClient client, string path, IMessage request, MessageParser<TResponse> parser, bool idempotent, bool authenticate)
        : UnaryAttempts(idempotent, authenticate && client._options.Username is not null)
        where TResponse : class, IMessage<TResponse>
    {
        private readonly long _started = client._time.GetTimestamp();
        private int _attempts;
        private string? _token;

        /// <summary>Attempts made so far (1 when the first one answered).</summary>
        public int Attempts => _attempts;

        /// <summary>The endpoint of the latest attempt.</summary>
        public Uri Endpoint { get; private set; } = client._endpoints.Current;

        public async ValueTask<TResponse> AttemptAsync(CancellationToken deadline)
        {
            var endpoints = client._endpoints;
            var options = client._options;
            Endpoint = endpoints.Current;
            _token = null;
            // The last attempt the pipeline can make keeps the whole remaining budget.
            var last = ++_attempts >= EtcdRetries.CallRounds * endpoints.Count;
            using var share = Idempotent && endpoints.Count > 1 && !last
                ? new CancellationTokenSource(options.RequestTimeout / 2, client._time)
                : null;
            using var attemptLimit = share is null ? null : CancellationTokenSource.CreateLinkedTokenSource(deadline, share.Token);
            try
            {
                _token = authenticate ? await client.GetTokenAsync(deadline).ConfigureAwait(false) : null;
                var remaining = options.RequestTimeout - client._time.GetElapsedTime(_started);
                return await client._transport.UnaryAsync(Endpoint, path, request, parser, _token, remaining,
                    attemptLimit?.Token ?? deadline).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (share is { IsCancellationRequested: true } && !deadline.IsCancellationRequested)
            {
                throw new AttemptTimeoutException("no answer within half the request timeout", ex);
            }
        }

        public override void OnFailover(Exception failure, int retry, TimeSpan delay)
        {
            var next = client._endpoints.MarkFailed(Endpoint);
            if (next != Endpoint)
            {
                Log.EndpointFailed(client._logger, Endpoint, next);
            }

            Log.CallRetrying(client._logger, path, Endpoint, failure.Message, _attempts);
        }

        protected override async ValueTask RenewAsync(Exception rejection, CancellationToken cancellationToken)
        {
            Log.TokenRejected(client._logger, rejection.Message);
            await client.RenewTokenAsync(_token, cancellationToken).ConfigureAwait(false);
        }
    }
}
