using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>One request of the API load: when it started (ms since the run began), how long it took, its status
/// (0 when it failed without an answer) and which director it went to.</summary>
internal readonly record struct ApiSample(double StartMs, double LatencyMs, int Status, int Director);

/// <summary>
/// Closed-loop <c>POST /v1/jobs</c> load: C workers, each sending its next request when the previous one answered,
/// round-robin over the directors currently marked live. A director is taken out of the rotation before it is
/// killed, so only requests already in flight to it can fail because of the kill.
/// </summary>
internal sealed class ApiLoad : IDisposable
{
    private readonly IReadOnlyList<DirectorProcess> _directors;
    private readonly HttpClient[] _clients;
    private readonly byte[] _body;
    private volatile int[] _live;
    private long _next;

    public ApiLoad(IReadOnlyList<DirectorProcess> directors, JobSpec spec)
    {
        _directors = directors;
        _live = [.. Enumerable.Range(0, directors.Count)];
        _body = ContractJson.Serialize(spec);
        // One client per director; the handler opens as many connections as there are workers in flight.
        _clients = directors.Select(d => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = d.Url,
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", d.Token) },
        }).ToArray();
    }

    /// <summary>Takes a director out of the rotation (before it is killed).</summary>
    public void Retire(DirectorProcess director)
    {
        var index = _directors.ToList().IndexOf(director);
        _live = _live.Where(i => i != index).ToArray();
    }

    /// <summary>Runs <paramref name="workers"/> workers until <paramref name="duration"/> passed or
    /// <paramref name="maxRequests"/> were sent; returns every request.</summary>
    public async Task<List<ApiSample>> RunAsync(int workers, TimeSpan duration, int maxRequests, long origin, CancellationToken cancellationToken)
    {
        var samples = new ConcurrentBag<ApiSample>();
        var sent = 0L;
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end && Interlocked.Increment(ref sent) <= maxRequests && !cancellationToken.IsCancellationRequested)
            {
                samples.Add(await SendAsync(origin, cancellationToken).ConfigureAwait(false));
            }
        }, cancellationToken))).ConfigureAwait(false);
        return [.. samples];
    }

    private async Task<ApiSample> SendAsync(long origin, CancellationToken cancellationToken)
    {
        var live = _live;
        var director = live[(int)(Interlocked.Increment(ref _next) % live.Length)];
        var started = Stopwatch.GetTimestamp();
        var status = 0;
        try
        {
            using var content = new ByteArrayContent(_body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/jobs", UriKind.Relative)) { Content = content };
            using var response = await _clients[director].SendAsync(request, cancellationToken).ConfigureAwait(false);
            // Read the body: the request is not over for the client until it has the job back.
            _ = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            status = (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            // No answer (connection refused or reset): status 0.
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The client's 30 s timeout: no answer either.
        }

        return new ApiSample(
            Stopwatch.GetElapsedTime(origin, started).TotalMilliseconds,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            status,
            director);
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
