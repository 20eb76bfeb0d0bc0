namespace ControlPlane.Cli.Http;

/// <summary>The workers, leader and cluster calls.</summary>
internal sealed partial class ApiClient
{
    /// <summary><c>GET /v1/workers</c>: a page of registered workers (the director's default size when
    /// <paramref name="limit"/> is null), from <paramref name="cursor"/> when given.</summary>
    public Task<ApiResponse> ListWorkersAsync(int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (limit is { } l)
        {
            query.Add("limit=" + l.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (!string.IsNullOrEmpty(cursor))
        {
            query.Add("cursor=" + Uri.EscapeDataString(cursor));
        }

        return SendAsync(Read("v1/workers" + (query.Count == 0 ? "" : "?" + string.Join('&', query))), cancellationToken);
    }

    /// <summary><c>POST /v1/workers/{id}/drain</c>: asks the agent to finish its work and leave (202). Repeatable: the
    /// director answers 202 again for a drain already requested.</summary>
    public Task<ApiResponse> DrainWorkerAsync(string workerId, CancellationToken cancellationToken) =>
        SendAsync(new ApiRequest(HttpMethod.Post, $"v1/workers/{Segment(workerId)}/drain") { Repeatable = true }, cancellationToken);

    /// <summary><c>POST /v1/workers/{id}/undrain</c>: takes a drain request back (202, also when none was left).
    /// Repeatable: deleting the request twice is the same as once.</summary>
    public Task<ApiResponse> UndrainWorkerAsync(string workerId, CancellationToken cancellationToken) =>
        SendAsync(new ApiRequest(HttpMethod.Post, $"v1/workers/{Segment(workerId)}/undrain") { Repeatable = true }, cancellationToken);

    /// <summary><c>GET /v1/leader</c>: 503 while no director leads.</summary>
    public Task<ApiResponse> GetLeaderAsync(CancellationToken cancellationToken) =>
        SendAsync(Read("v1/leader"), cancellationToken);

    /// <summary><c>GET /v1/cluster</c>: directors, leader and store.</summary>
    public Task<ApiResponse> GetClusterAsync(CancellationToken cancellationToken) =>
        SendAsync(Read("v1/cluster"), cancellationToken);

    /// <summary><c>GET /v1/doctor</c>: every check of the cluster.</summary>
    public Task<ApiResponse> GetDoctorAsync(CancellationToken cancellationToken) =>
        SendAsync(Read("v1/doctor"), cancellationToken);

    /// <summary><c>GET /v1/jobs/{id}/explain</c>: why the job is (not) running.</summary>
    public Task<ApiResponse> ExplainJobAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(Read($"v1/jobs/{Segment(id)}/explain"), cancellationToken);
}
