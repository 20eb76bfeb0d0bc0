using System.Globalization;
using System.Net;

namespace ControlPlane.Cli.Http;

/// <summary>
/// Failover between the directors of <c>--url</c>: a plain ordered walk, each director tried at most once per request,
/// starting with the one that answered last (so a dead first director costs one refused connection per command, not
/// one per request). No waiting between directors: any director serves every request, so the next one is as good.
/// </summary>
/// <remarks>
/// The rule that keeps this safe: a request moves on to the next director
/// <list type="bullet">
/// <item>always, when the connection could not even be made (refused, DNS, TLS): the director never got it;</item>
/// <item>when the director may have got it (the connection broke, no answer within <see cref="RequestTimeout"/>, or it
/// answered 502/503/504) only if acting on it twice does no harm (<see cref="ApiRequest.Repeatable"/>: reads, cancel,
/// drain, and submissions with an Idempotency-Key, which the director turns into the same job).</item>
/// </list>
/// A submission without a key stops at such a failure: a second director could create the job a second time.
/// Every other answer (2xx, 4xx, 500) is the answer, from whichever director gave it.
/// </remarks>
internal sealed partial class ApiClient
{
    private int preferred;

    /// <summary>Sends <paramref name="request"/> to the directors in turn, as the remarks above say.</summary>
    /// <exception cref="ApiException">A director answered with a status outside 2xx (after failover, the last such answer).</exception>
    /// <exception cref="DirectorsUnreachableException">No director answered, or the request must not be sent again.</exception>
    private async Task<ApiResponse> SendAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        var failures = new List<(Uri Director, string Reason)>();
        ApiException? unavailable = null;
        Exception? lastFailure = null;
        for (var i = 0; i < directors.Length; i++)
        {
            var index = (preferred + i) % directors.Length;
            var director = directors[index];
            var isLast = i == directors.Length - 1;
            bool mayHaveArrived;
            try
            {
                var response = await SendOnceAsync(request, director, cancellationToken);
                preferred = index;
                await SayAsync($"{Describe(request)} answered by {director} ({(int)response.Status} {response.Status})");
                return response;
            }
            catch (ApiException e) when (request.Repeatable && !isLast && e.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
            {
                // A director that cannot serve now (its store is unreachable, a proxy in front of it is): try another.
                unavailable = e;
                failures.Add((director, $"{(int)e.Status} {e.Problem?.Title ?? e.Message}"));
                await SayAsync($"{Describe(request)}: {director} answered {(int)e.Status}; trying {directors[(index + 1) % directors.Length]}");
                continue;
            }
            catch (ApiException e)
            {
                preferred = index;
                await SayAsync($"{Describe(request)} answered by {director} ({(int)e.Status} {e.Status})");
                throw;
            }
            catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Add((director, e.Message));
                lastFailure = e;
                mayHaveArrived = !NeverSent(e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // HttpClient.Timeout: the connection was made and the request sent, but no answer came.
                failures.Add((director, $"no answer within {RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s"));
                lastFailure = e;
                mayHaveArrived = true;
            }

            if (mayHaveArrived && !request.Repeatable)
            {
                throw new DirectorsUnreachableException(
                    $"no answer from the director at {director} ({failures[^1].Reason}), which may have received the submission; " +
                    "not sending it to another director, which could create the job twice. Look for it with 'cpctl list', " +
                    "or submit with -k/--idempotency-key, which makes a retry safe.",
                    lastFailure!);
            }

            if (!isLast)
            {
                await SayAsync($"{Describe(request)}: {director} failed ({failures[^1].Reason}); trying {directors[(index + 1) % directors.Length]}");
            }
        }

        // Every director was tried. A real answer (503 from the last one that answered) says more than a refused connection.
        if (unavailable is not null)
        {
            throw unavailable;
        }

        throw new DirectorsUnreachableException(
            failures.Count == 1 ? Unreachable(failures[0].Director, lastFailure!) : "cannot reach any director: " + string.Join("; ", failures.Select(f => $"{f.Director} ({f.Reason})")),
            lastFailure!);
    }

    /// <summary>True when the request provably never left: the connection to the director was never established.</summary>
    private static bool NeverSent(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError;

    private static string Unreachable(Uri director, Exception failure) => failure is TaskCanceledException
        ? $"the director at {director} did not answer in time"
        : $"cannot reach the director at {director}: {failure.Message}";

    private static string Describe(ApiRequest request) => $"{request.Method} /{request.Path}";

    private async Task SayAsync(string line)
    {
        if (verbose is not null)
        {
            await verbose.WriteLineAsync(line);
        }
    }
}
