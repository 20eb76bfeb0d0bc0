using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Client;

/// <summary>The workers, leader, cluster and doctor calls.</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary><c>GET /v1/workers</c>, one page from <paramref name="cursor"/> (null for the first); most callers want
    /// <see cref="ListWorkersAsync"/>.</summary>
    /// <param name="pageSize">Workers per request (1 to 500); null for the director's default (100).</param>
    /// <param name="cursor">The previous page's cursor.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<WorkerPage> GetWorkerPageAsync(int? pageSize = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetWorkerPage(pageSize, cursor), cancellationToken);

    /// <summary>Every registered worker in id order, with its load and state, a page at a time as the enumeration goes on.</summary>
    public IAsyncEnumerable<WorkerView> ListWorkersAsync(int? pageSize = null, CancellationToken cancellationToken = default) =>
        PagesAsync((cursor, ct) => GetWorkerPageAsync(pageSize, cursor, ct), page => (page.Items, page.Cursor), cancellationToken);

    /// <summary>
    /// <c>POST /v1/workers/{id}/drain</c>: asks the worker to finish its jobs, take no new ones, and leave. Returns once
    /// the request is recorded (the agent acts on it asynchronously). Repeatable: a drain already requested is accepted
    /// again. <see cref="UndrainWorkerAsync"/> takes the request back while the agent is still finishing its jobs.
    /// </summary>
    /// <exception cref="ControlPlaneNotFoundException">No such worker is registered.</exception>
    public async Task DrainWorkerAsync(string workerId, CancellationToken cancellationToken = default) =>
        await SendAsync(ControlPlaneRequest.DrainWorker(workerId), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// <c>POST /v1/workers/{id}/undrain</c>: takes a drain request back, so an agent still finishing its jobs takes work
    /// again; a request left behind by an agent that died is removed. Returns once recorded (the agent acts on it
    /// asynchronously). Repeatable: accepted also when no drain was requested.
    /// </summary>
    /// <exception cref="ControlPlaneNotFoundException">No such worker is registered and no drain request of it is left.</exception>
    public async Task UndrainWorkerAsync(string workerId, CancellationToken cancellationToken = default) =>
        await SendAsync(ControlPlaneRequest.UndrainWorker(workerId), cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /v1/leader</c>: the leading director.</summary>
    /// <exception cref="ControlPlaneUnavailableException">No director leads (none runs, or an election is in progress)
    /// and none did within the client's retries.</exception>
    public Task<LeaderView> GetLeaderAsync(CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetLeader(), cancellationToken);

    /// <summary><c>GET /v1/leader?cell=</c>: the leading director of <paramref name="cell"/> (docs/cells.md).</summary>
    public Task<LeaderView> GetLeaderAsync(string cell, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetLeader(cell), cancellationToken);

    /// <summary><c>GET /v1/cells</c>: every cell with its leader, epoch, workers and pending jobs, the director versions
    /// allowed to lead it, and why it has no leader when it has none (docs/cells.md).</summary>
    public Task<IReadOnlyList<CellView>> GetCellsAsync(CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetCells(), cancellationToken);

    /// <summary>
    /// <c>PUT /v1/cells/{cell}/policy</c>: only directors whose version matches one of <paramref name="allowedVersions"/>
    /// (an exact version, or a prefix ending in <c>*</c>) may lead <paramref name="cell"/> from now on. A director of
    /// another version leaves the cell's election within its <c>Director:CellDiscoveryInterval</c>, resigning first if it
    /// leads there; when no allowed director runs, the cell waits without a leader (<see cref="CellView.Waiting"/> says why).
    /// </summary>
    /// <exception cref="ControlPlaneValidationException">A pattern is not valid, or the list is empty or longer than 16.</exception>
    /// <exception cref="ControlPlaneNotFoundException">No such cell.</exception>
    public Task<CellPolicyRecord> PinCellAsync(string cell, IReadOnlyList<string> allowedVersions, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.PinCell(cell, allowedVersions), cancellationToken);

    /// <summary><c>DELETE /v1/cells/{cell}/policy</c>: any director version may lead <paramref name="cell"/> again. Idempotent.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such cell.</exception>
    public async Task UnpinCellAsync(string cell, CancellationToken cancellationToken = default) =>
        await SendAsync(ControlPlaneRequest.UnpinCell(cell), cancellationToken).ConfigureAwait(false);

    /// <summary><c>GET /v1/cluster</c>: live directors, the leader and the store, as the answering director sees them.</summary>
    public Task<ClusterView> GetClusterAsync(CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetCluster(), cancellationToken);

    /// <summary><c>GET /v1/doctor</c>: every health check of the cluster, OK, WARN or FAIL each, with what to do. A FAIL
    /// is a normal answer here, not an exception: read <see cref="DoctorReport.Status"/>.</summary>
    public Task<DoctorReport> GetDoctorAsync(CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetDoctor(), cancellationToken);
}
