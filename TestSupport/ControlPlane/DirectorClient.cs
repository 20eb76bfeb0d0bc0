using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.TestSupport.ControlPlane;

/// <summary>A thin client of the director's REST API for tests: typed calls that fail with the response body.</summary>
public sealed class DirectorClient : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Creates a client of the director at <paramref name="baseAddress"/>.</summary>
    public DirectorClient(Uri baseAddress, string? token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = baseAddress;
        _http.Timeout = TimeSpan.FromSeconds(30);
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>The underlying client, for raw requests.</summary>
    public HttpClient Http => _http;

    /// <summary>True when <c>/healthz</c> answers 200; false when it does not answer.</summary>
    public async Task<bool> IsHealthyAsync()
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("/healthz", UriKind.Relative)).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Submits a job; returns it with the revision of the write.</summary>
    /// <exception cref="HttpRequestException">Not 201/200; the message holds the problem document.</exception>
    public async Task<JobView> SubmitAsync(JobSpec spec, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/jobs", UriKind.Relative))
        {
            Content = JsonContent.Create(spec, options: ContractJson.Options),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<JobView>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a job, at least as new as <paramref name="minRevision"/>; null when it does not exist.</summary>
    public async Task<JobView?> GetJobAsync(string id, long? minRevision = null, CancellationToken cancellationToken = default)
    {
        var uri = minRevision is { } r ? $"/v1/jobs/{id}?minRevision={r}" : $"/v1/jobs/{id}";
        using var response = await _http.GetAsync(new Uri(uri, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync<JobView>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One page of the job list.</summary>
    public async Task<JobPage> ListJobsAsync(string? cursor = null, int limit = 500, string? state = null, CancellationToken cancellationToken = default)
    {
        var query = $"/v1/jobs?limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}") + (state is null ? "" : $"&state={state}");
        using var response = await _http.GetAsync(new Uri(query, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<JobPage>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every job, through as many pages as it takes (bounded to 1000 pages).</summary>
    public async Task<IReadOnlyList<JobView>> AllJobsAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<JobView>();
        string? cursor = null;
        for (var page = 0; page < 1000; page++)
        {
            var result = await ListJobsAsync(cursor, cancellationToken: cancellationToken).ConfigureAwait(false);
            all.AddRange(result.Items);
            cursor = result.Cursor;
            if (cursor is null)
            {
                break;
            }
        }

        return all;
    }

    /// <summary>Submits a workflow; returns it with the revision of its commit.</summary>
    /// <exception cref="HttpRequestException">Not 201/200; the message holds the problem document.</exception>
    public async Task<Contracts.Workflows.WorkflowView> SubmitWorkflowAsync(Contracts.Workflows.WorkflowSpec spec, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/workflows", UriKind.Relative))
        {
            Content = JsonContent.Create(spec, options: ContractJson.Options),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<Contracts.Workflows.WorkflowView>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a workflow with its jobs' states; null when it does not exist.</summary>
    public async Task<Contracts.Workflows.WorkflowView?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri($"/v1/workflows/{id}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync<Contracts.Workflows.WorkflowView>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Requests cancellation; returns the status code (202, 404 or 409).</summary>
    public async Task<HttpStatusCode> CancelAsync(string id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.DeleteAsync(new Uri($"/v1/jobs/{id}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return response.StatusCode;
    }

    /// <summary>One page of the worker list.</summary>
    public async Task<WorkerPage> ListWorkersAsync(string? cursor = null, int limit = 500, CancellationToken cancellationToken = default)
    {
        var query = $"/v1/workers?limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
        using var response = await _http.GetAsync(new Uri(query, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<WorkerPage>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Live workers, through as many pages as it takes (bounded to 1000 pages).</summary>
    public async Task<IReadOnlyList<WorkerView>> WorkersAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<WorkerView>();
        string? cursor = null;
        for (var page = 0; page < 1000; page++)
        {
            var result = await ListWorkersAsync(cursor, cancellationToken: cancellationToken).ConfigureAwait(false);
            all.AddRange(result.Items);
            cursor = result.Cursor;
            if (cursor is null)
            {
                break;
            }
        }

        return all;
    }

    /// <summary>The leader, or null while none is elected.</summary>
    public async Task<LeaderView?> LeaderAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri("/v1/leader", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.ServiceUnavailable ? null : await ReadAsync<LeaderView>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polls until the job is in a terminal state (or <paramref name="timeout"/>); returns it.</summary>
    public async Task<JobView> WaitForTerminalAsync(string id, TimeSpan timeout, long? minRevision = null)
    {
        JobView? last = null;
        await Eventually.UntilAsync(
            async () =>
            {
                last = await GetJobAsync(id, minRevision).ConfigureAwait(false);
                return last?.State.IsTerminal() == true;
            },
            timeout,
            () => last is null ? "no such job" : $"{last.State} attempt {last.Attempt} on {last.WorkerId}: {last.Error}").ConfigureAwait(false);
        return last!;
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new HttpRequestException($"{(int)response.StatusCode} {response.StatusCode}: {body}", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<T>(ContractJson.Options, cancellationToken).ConfigureAwait(false)
            ?? throw new HttpRequestException("Empty response body.");
    }

    /// <summary>Disposes the HTTP client.</summary>
    public void Dispose() => _http.Dispose();
}
