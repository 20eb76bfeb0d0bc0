using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Http;

/// <summary>The <c>/v1/jobs</c> calls.</summary>
internal sealed partial class ApiClient
{
    /// <summary><c>POST /v1/jobs</c>: 201 for a new job, 200 when <paramref name="idempotencyKey"/> replays one.</summary>
    public Task<ApiResponse> SubmitAsync(JobSpec spec, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/jobs")
        {
            Content = new ByteArrayContent(ContractJson.Serialize(spec))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } },
            },
        };
        if (!string.IsNullOrEmpty(idempotencyKey))
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return SendAsync(request, cancellationToken);
    }

    /// <summary><c>GET /v1/jobs/{id}</c>, read at <paramref name="minRevision"/> or later when given.</summary>
    public Task<ApiResponse> GetJobAsync(string id, long? minRevision, CancellationToken cancellationToken)
    {
        var path = $"v1/jobs/{Segment(id)}";
        if (minRevision is { } revision)
        {
            path += $"?minRevision={revision.ToString(CultureInfo.InvariantCulture)}";
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
    }

    /// <summary><c>GET /v1/jobs</c>: one page, filtered by state and group.</summary>
    public Task<ApiResponse> ListJobsAsync(JobState? state, string? group, int? limit, string? cursor, CancellationToken cancellationToken)
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
        Add("limit", limit?.ToString(CultureInfo.InvariantCulture));
        Add("cursor", cursor);
        return SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/jobs" + query), cancellationToken);
    }

    /// <summary><c>DELETE /v1/jobs/{id}</c>: requests cancellation (202); 404 unknown, 409 already finished.</summary>
    public Task<ApiResponse> CancelJobAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"v1/jobs/{Segment(id)}"), cancellationToken);
}
