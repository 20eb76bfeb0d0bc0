using System.Globalization;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Http;

/// <summary>The <c>/v1/jobs</c> calls.</summary>
internal sealed partial class ApiClient
{
    /// <summary><c>POST /v1/jobs</c>: 201 for a new job, 200 when <paramref name="idempotencyKey"/> replays one. Only a
    /// keyed submission is sent to another director after one that may have received it failed.</summary>
    public Task<ApiResponse> SubmitAsync(JobSpec spec, string? idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync(Create("v1/jobs", ContractJson.Serialize(spec), idempotencyKey), cancellationToken);

    /// <summary><c>GET /v1/jobs/{id}</c>, read at <paramref name="minRevision"/> or later when given.</summary>
    public Task<ApiResponse> GetJobAsync(string id, long? minRevision, CancellationToken cancellationToken)
    {
        var path = $"v1/jobs/{Segment(id)}";
        if (minRevision is { } revision)
        {
            path += $"?minRevision={revision.ToString(CultureInfo.InvariantCulture)}";
        }

        return SendAsync(Read(path), cancellationToken);
    }

    /// <summary><c>GET /v1/jobs</c>: one page, filtered by state, group and the schedule that created them.</summary>
    public Task<ApiResponse> ListJobsAsync(JobState? state, string? group, int? limit, string? cursor, CancellationToken cancellationToken, string? schedule = null)
    {
        var query = new StringBuilder();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        Add("state", state?.ToString());
        Add("group", group);
        Add("schedule", schedule);
        Add("limit", limit?.ToString(CultureInfo.InvariantCulture));
        Add("cursor", cursor);
        return SendAsync(Read("v1/jobs" + query), cancellationToken);
    }

    /// <summary><c>DELETE /v1/jobs/{id}</c>: requests cancellation (202); 404 unknown, 409 already finished. Repeatable: a
    /// second request changes nothing (it may answer 409 when the first already cancelled a pending job).</summary>
    public Task<ApiResponse> CancelJobAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(new ApiRequest(HttpMethod.Delete, $"v1/jobs/{Segment(id)}") { Repeatable = true }, cancellationToken);

    /// <summary>A POST that creates something: repeatable (on another director, after a lost answer) only with a key.</summary>
    private static ApiRequest Create(string path, byte[] json, string? idempotencyKey) => new(HttpMethod.Post, path)
    {
        Json = json,
        IdempotencyKey = string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey,
        Repeatable = !string.IsNullOrEmpty(idempotencyKey),
    };

    /// <summary>A GET: repeatable by nature.</summary>
    private static ApiRequest Read(string path) => new(HttpMethod.Get, path) { Repeatable = true };
}
