using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>One request to a director's API and how it ended.</summary>
/// <param name="Director">Which director.</param>
/// <param name="Operation"><c>submit</c>, <c>get</c> or <c>list</c>.</param>
/// <param name="Start">Sent (UTC).</param>
/// <param name="End">Answered or failed (UTC).</param>
/// <param name="Status">The HTTP status; null when no answer came (connection refused or reset, client timeout).</param>
/// <param name="Error">The transport error, or the problem document of a 5xx.</param>
public sealed record ApiCall(string Director, string Operation, DateTimeOffset Start, DateTimeOffset End, int? Status, string? Error)
{
    /// <summary>The answer's <c>Retry-After</c> header, when it had one.</summary>
    public string? RetryAfter { get; init; }
}

/// <summary>
/// Every API request of a run, sent through here so the 5xx check sees all of them: the workload's submissions and
/// the observer's listings. Requests are raw (status codes kept, nothing thrown for an error status).
/// </summary>
public sealed class RequestLog
{
    private readonly ConcurrentQueue<ApiCall> _calls = new();

    /// <summary>Every call so far.</summary>
    public IReadOnlyList<ApiCall> Calls => [.. _calls];

    /// <summary>POSTs <paramref name="spec"/>; returns the status and, on 200/201, the job.</summary>
    public async Task<(int? Status, JobView? Job)> SubmitAsync(string director, HttpClient http, JobSpec spec, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/jobs", UriKind.Relative))
        {
            Content = JsonContent.Create(spec, options: ContractJson.Options),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await SendAsync<JobView>(director, "submit", http, request);
    }

    /// <summary>GETs one page of the job list.</summary>
    public async Task<(int? Status, JobPage? Page)> ListAsync(string director, HttpClient http, string? cursor)
    {
        var query = "/v1/jobs?limit=500" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(query, UriKind.Relative));
        return await SendAsync<JobPage>(director, "list", http, request);
    }

    private async Task<(int? Status, T? Body)> SendAsync<T>(string director, string operation, HttpClient http, HttpRequestMessage request)
        where T : class
    {
        var start = DateTimeOffset.UtcNow;
        try
        {
            using var response = await http.SendAsync(request);
            var status = (int)response.StatusCode;
            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created)
            {
                var body = await response.Content.ReadFromJsonAsync<T>(ContractJson.Options);
                _calls.Enqueue(new(director, operation, start, DateTimeOffset.UtcNow, status, null));
                return (status, body);
            }

            var problem = await response.Content.ReadAsStringAsync();
            _calls.Enqueue(new(director, operation, start, DateTimeOffset.UtcNow, status, problem.Length > 300 ? problem[..300] : problem)
            {
                RetryAfter = response.Headers.RetryAfter?.ToString(),
            });
            return (status, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // No answer: the director died, or its connection was reset. Recorded, never a 5xx.
            _calls.Enqueue(new(director, operation, start, DateTimeOffset.UtcNow, null, $"{e.GetType().Name}: {e.Message}"));
            return (null, null);
        }
    }
}
