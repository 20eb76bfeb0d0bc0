using System.Globalization;
using System.Net;

namespace ControlPlane.Client.Internal;

/// <summary>
/// Sends one call to the directors in turn until one answers, under the rule stated on <see cref="ControlPlaneClient"/>:
/// a call goes on to the next director always when the connection could not be made (the director never got it), and
/// after a failure the director may have seen (broken connection, no answer within the attempt timeout, 502/503/504)
/// only when it is repeatable. No waiting between directors: any director serves every call. Waiting and trying the
/// whole walk again is the resilience handler's job, above this one.
/// </summary>
/// <remarks>Each director's part is reported to <c>observe</c> (<see cref="ControlPlaneClientOptions.OnDirectorAttempt"/>) as it ends.</remarks>
internal sealed class FailoverHandler(DirectorRotation directors, TimeSpan attemptTimeout, Action<DirectorAttempt>? observe = null) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.Options.TryGetValue(CallOptions.Path, out var p) ? p : throw new InvalidOperationException("A call without a path.");
        var repeatable = CallOptions.IsRepeatable(request);
        var call = $"{request.Method} /{path}";
        var attempts = new List<DirectorAttempt>();
        HttpResponseMessage? unavailable = null;
        Exception? lastFailure = null;
        Uri? lastDirector = null;
        var mayHaveArrived = false;
        var tried = 0;
        var turn = directors.InTurn().ToList();
        foreach (var (index, director) in turn)
        {
            Uri? next = tried + 1 < turn.Count ? turn[tried + 1].Director : null;
            tried++;
            var isLast = tried == directors.Count;
            lastDirector = director;
            request.RequestUri = new Uri(director, path);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(attemptTimeout);
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastFailure = e;
                var arrived = !NeverSent(e);
                mayHaveArrived |= arrived;
                var stop = arrived && !repeatable;
                Observe(attempts, new DirectorAttempt(call, director, null, e.Message, stop ? null : next));
                if (stop)
                {
                    throw MayHaveReceived(request, director, e.Message, e, attempts);
                }

                continue;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                var reason = $"no answer within {attemptTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";
                lastFailure = e;
                mayHaveArrived = true;
                Observe(attempts, new DirectorAttempt(call, director, null, reason, repeatable ? next : null));
                if (!repeatable)
                {
                    throw MayHaveReceived(request, director, reason, e, attempts);
                }

                continue;
            }

            if (repeatable && !isLast && response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                // This director cannot serve now (its store session is down, a proxy in front of it is): try another,
                // and keep this answer in case no other does better.
                Observe(attempts, new DirectorAttempt(call, director, response.StatusCode, null, next));
                unavailable?.Dispose();
                unavailable = response;
                continue;
            }

            unavailable?.Dispose();
            Observe(attempts, new DirectorAttempt(call, director, response.StatusCode, null, null));
            directors.Answered(index);
            request.Options.Set(CallOptions.Director, director);
            return response;
        }

        // Every director was tried. An answer (a 503 from one that could not serve) says more than a refused connection.
        if (unavailable is not null)
        {
            return unavailable;
        }

        throw new ControlPlaneUnreachableException(
            $"{call}: cannot reach any director: {string.Join("; ", attempts.Select(a => $"{a.Director} ({a.Failure ?? ((int?)a.StatusCode)?.ToString(CultureInfo.InvariantCulture)})"))}.",
            mayHaveArrived,
            lastDirector,
            lastFailure,
            attempts);
    }

    /// <summary>True when the request provably never left: the connection to the director was never established.</summary>
    private static bool NeverSent(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;

    private void Observe(List<DirectorAttempt> attempts, DirectorAttempt attempt)
    {
        attempts.Add(attempt);
        observe?.Invoke(attempt);
    }

    private static ControlPlaneUnreachableException MayHaveReceived(HttpRequestMessage request, Uri director, string reason, Exception inner, IReadOnlyList<DirectorAttempt> attempts) => new(
        $"{request.Method} {request.RequestUri?.AbsolutePath}: no answer from the director at {director} ({reason}), which may have received it; " +
        "not sending it to another director, which could act on it twice. Look before trying again, or submit with an Idempotency-Key, which makes a retry safe.",
        mayHaveReachedDirector: true,
        director,
        inner,
        attempts,
        stoppedUnrepeatable: true);
}
