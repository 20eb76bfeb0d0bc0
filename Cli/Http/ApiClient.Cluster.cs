namespace ControlPlane.Cli.Http;

/// <summary>The workers, leader and cluster calls.</summary>
internal sealed partial class ApiClient
{
    /// <summary><c>GET /v1/workers</c>: every registered worker.</summary>
    public Task<ApiResponse> ListWorkersAsync(CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/workers"), cancellationToken);

    /// <summary><c>POST /v1/workers/{id}/drain</c>: asks the agent to finish its work and leave (202).</summary>
    public Task<ApiResponse> DrainWorkerAsync(string workerId, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, $"v1/workers/{Segment(workerId)}/drain"), cancellationToken);

    /// <summary><c>GET /v1/leader</c>: 503 while no director leads.</summary>
    public Task<ApiResponse> GetLeaderAsync(CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/leader"), cancellationToken);

    /// <summary><c>GET /v1/cluster</c>: directors, leader and store.</summary>
    public Task<ApiResponse> GetClusterAsync(CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/cluster"), cancellationToken);
}
