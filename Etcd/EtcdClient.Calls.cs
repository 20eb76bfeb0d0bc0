using System.Diagnostics;
using System.Net.Sockets;
using ControlPlane.Etcd.Internal;
using Google.Protobuf;

namespace ControlPlane.Etcd;

/// <summary>Unary calls: deadline, failover, safe retries and token renewal.</summary>
public sealed partial class EtcdClient
{
    /// <summary>
    /// Runs one unary call within <see cref="EtcdClientOptions.RequestTimeout"/>.
    /// <paramref name="idempotent"/> calls (reads) are retried on another endpoint after Unavailable or a broken
    /// connection; writes only when the connection was never established, because a write that reached a
    /// member may have been applied even though no answer came back.
    /// </summary>
    internal async Task<TResponse> CallAsync<TResponse>(
        string path, IMessage request, MessageParser<TResponse> parser, bool idempotent, CancellationToken cancellationToken,
        bool authenticate = true)
        where TResponse : class, IMessage<TResponse>
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var start = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        deadline.CancelAfter(_options.RequestTimeout);
        var maxAttempts = (_endpoints.Count * 2) + 1;
        var renewedToken = false;

        for (var attempt = 1; ; attempt++)
        {
            var endpoint = _endpoints.Current;
            string? token = null;
            // A read gets half the budget per attempt when another endpoint could answer: a black-holed member
            // (no reset, no answer) would otherwise hold it until the whole deadline expired.
            using var attemptLimit = idempotent && _endpoints.Count > 1 && attempt < maxAttempts
                ? CancellationTokenSource.CreateLinkedTokenSource(deadline.Token)
                : null;
            attemptLimit?.CancelAfter(_options.RequestTimeout / 2);
            try
            {
                token = authenticate ? await GetTokenAsync(deadline.Token).ConfigureAwait(false) : null;
                var remaining = _options.RequestTimeout - Stopwatch.GetElapsedTime(start);
                var response = await _transport.UnaryAsync(endpoint, path, request, parser, token, remaining,
                    attemptLimit?.Token ?? deadline.Token).ConfigureAwait(false);
                EtcdMetrics.RecordRequest(path, GrpcStatusCode.OK, start);
                return response;
            }
            catch (OperationCanceledException) when (attemptLimit is { IsCancellationRequested: true } && !deadline.IsCancellationRequested)
            {
                var next = _endpoints.MarkFailed(endpoint);
                Log.CallRetrying(_logger, path, endpoint, "no answer within half the request timeout", attempt);
                if (next != endpoint)
                {
                    Log.EndpointFailed(_logger, endpoint, next);
                }
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                EtcdMetrics.RecordRequest(path, GrpcStatusCode.DeadlineExceeded, start);
                ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
                throw new EtcdTimeoutException(
                    $"{path} did not complete within {_options.RequestTimeout.TotalSeconds:0.###} s (last endpoint {endpoint}); a write's outcome is unknown",
                    ex);
            }
            catch (EtcdAuthenticationException ex) when (authenticate && _options.Username is not null && !renewedToken
                                                         && IsTokenRejection(ex))
            {
                // etcd checks the token before applying anything, so even a write is safe to repeat here.
                renewedToken = true;
                Log.TokenRejected(_logger, ex.Message);
                await RenewTokenAsync(token, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < maxAttempts && IsRetryable(ex, idempotent))
            {
                var next = _endpoints.MarkFailed(endpoint);
                if (next != endpoint)
                {
                    Log.EndpointFailed(_logger, endpoint, next);
                }

                Log.CallRetrying(_logger, path, endpoint, ex.Message, attempt);
                // After a full round over the endpoints, pause briefly: the cluster may be electing a leader.
                if (attempt % _endpoints.Count == 0)
                {
                    await Task.Delay(Backoff(attempt / _endpoints.Count), _time, deadline.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not EtcdException)
            {
                EtcdMetrics.RecordRequest(path, GrpcStatusCode.Unavailable, start);
                _endpoints.MarkFailed(endpoint);
                throw new EtcdUnavailableException(
                    NotSent(ex) ? $"{path}: could not connect to {endpoint}: {ex.Message}"
                                : $"{path}: connection to {endpoint} failed during the call; the outcome is unknown: {ex.Message}",
                    ex);
            }
            catch (EtcdException ex)
            {
                EtcdMetrics.RecordRequest(path, ex.StatusCode, start);
                throw;
            }
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

    /// <summary>True when the request provably never reached a server: the TCP connection was never made.</summary>
    internal static bool NotSent(Exception ex)
    {
        return ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
            || (ex is HttpRequestException { InnerException: SocketException se }
                && se.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable);
    }

    private static bool IsTokenRejection(EtcdAuthenticationException ex) =>
        ex.Message.Contains("invalid auth token", StringComparison.Ordinal)
        || ex.Message.Contains("token", StringComparison.OrdinalIgnoreCase);

    /// <summary>Capped exponential backoff with full jitter, shared by calls and stream reconnects.</summary>
    internal TimeSpan Backoff(int failures)
    {
        var cap = _options.MaxReconnectDelay.TotalMilliseconds;
        var exp = Math.Min(cap, 50 * Math.Pow(2, Math.Min(failures, 10)));
        return TimeSpan.FromMilliseconds((exp / 2) + (Random.Shared.NextDouble() * exp / 2));
    }
}
