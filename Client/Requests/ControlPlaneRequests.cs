using System.Globalization;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Contracts.Doctor;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Contracts.Workers;
using ControlPlane.Contracts.Workflows;

namespace ControlPlane.Client;

/// <summary>
/// Every call of the director API as a <see cref="ControlPlaneRequest{T}"/>, for <see cref="ControlPlaneClient.SendAsync{T}"/>.
/// Each factory checks its arguments and escapes ids into the path; the typed method of the same name on
/// <see cref="ControlPlaneClient"/> documents the call.
/// </summary>
public static partial class ControlPlaneRequest
{
    /// <summary><c>POST /v1/jobs</c>; repeatable only with <paramref name="idempotencyKey"/>.</summary>
    public static ControlPlaneRequest<JobView> SubmitJob(JobSpec spec, string? idempotencyKey = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key(idempotencyKey);
        return new(HttpMethod.Post, "v1/jobs", repeatable: key is not null, ContractJson.Serialize(spec), key);
    }

    /// <summary><c>GET /v1/jobs/{id}</c>, at <paramref name="minRevision"/> or later when given.</summary>
    public static ControlPlaneRequest<JobView> GetJob(string id, long? minRevision = null) =>
        Read<JobView>($"v1/jobs/{Segment(id)}" + MinRevisionQuery(minRevision));

    /// <summary><c>GET /v1/jobs/{id}/explain</c>.</summary>
    public static ControlPlaneRequest<JobExplanation> ExplainJob(string id, long? minRevision = null) =>
        Read<JobExplanation>($"v1/jobs/{Segment(id)}/explain" + MinRevisionQuery(minRevision));

    /// <summary><c>GET /v1/jobs</c>: one page from <paramref name="cursor"/> (null for the first).</summary>
    public static ControlPlaneRequest<JobPage> GetJobPage(JobFilter? filter = null, string? cursor = null)
    {
        filter ??= new JobFilter();
        var query = new StringBuilder("v1/jobs");
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                query.Append(query.Length == "v1/jobs".Length ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }

        Add("state", filter.State?.ToString());
        Add("group", filter.Group);
        Add("schedule", filter.ScheduleId);
        Add("limit", filter.PageSize?.ToString(CultureInfo.InvariantCulture));
        Add("cursor", cursor);
        Add("minRevision", filter.MinRevision?.ToString(CultureInfo.InvariantCulture));
        return Read<JobPage>(query.ToString());
    }

    /// <summary><c>DELETE /v1/jobs/{id}</c>; repeatable.</summary>
    public static ControlPlaneRequest<JobView> CancelJob(string id) => new(HttpMethod.Delete, $"v1/jobs/{Segment(id)}", repeatable: true);

    /// <summary><c>GET /v1/workers</c>: one page from <paramref name="cursor"/> (null for the first).</summary>
    public static ControlPlaneRequest<WorkerPage> GetWorkerPage(int? pageSize = null, string? cursor = null) =>
        Read<WorkerPage>("v1/workers" + PageQuery(pageSize, cursor));

    /// <summary><c>POST /v1/workers/{id}/drain</c>; repeatable. Answers 202 without a body.</summary>
    public static ControlPlaneRequest<ControlPlaneNoContent> DrainWorker(string workerId) =>
        new(HttpMethod.Post, $"v1/workers/{Segment(workerId)}/drain", repeatable: true);

    /// <summary><c>POST /v1/workers/{id}/undrain</c>; repeatable. Answers 202 without a body.</summary>
    public static ControlPlaneRequest<ControlPlaneNoContent> UndrainWorker(string workerId) =>
        new(HttpMethod.Post, $"v1/workers/{Segment(workerId)}/undrain", repeatable: true);

    /// <summary><c>GET /v1/leader</c>: the default cell's leader.</summary>
    public static ControlPlaneRequest<LeaderView> GetLeader() => Read<LeaderView>("v1/leader");

    /// <summary><c>GET /v1/leader?cell=</c>: <paramref name="cell"/>'s leader.</summary>
    public static ControlPlaneRequest<LeaderView> GetLeader(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return Read<LeaderView>("v1/leader?cell=" + Uri.EscapeDataString(cell));
    }

    /// <summary><c>GET /v1/cells</c>: every cell with its leader, epoch, workers and pending jobs.</summary>
    public static ControlPlaneRequest<IReadOnlyList<CellView>> GetCells() => Read<IReadOnlyList<CellView>>("v1/cells");

    /// <summary><c>PUT /v1/cells/{cell}/policy</c>; repeatable (the same policy written twice is one policy).</summary>
    public static ControlPlaneRequest<CellPolicyRecord> PinCell(string cell, IReadOnlyList<string> allowedVersions) =>
        new(HttpMethod.Put, $"v1/cells/{Segment(cell)}/policy", repeatable: true, ContractJson.Serialize(new CellPolicyRequest { AllowedVersions = allowedVersions }));

    /// <summary><c>DELETE /v1/cells/{cell}/policy</c>; repeatable. Answers 204 without a body.</summary>
    public static ControlPlaneRequest<ControlPlaneNoContent> UnpinCell(string cell) =>
        new(HttpMethod.Delete, $"v1/cells/{Segment(cell)}/policy", repeatable: true);

    /// <summary><c>GET /v1/cells/{cell}/shadow</c>: the reports of the shadow directors following <paramref name="cell"/>.</summary>
    public static ControlPlaneRequest<IReadOnlyList<ShadowReport>> GetCellShadows(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return Read<IReadOnlyList<ShadowReport>>($"v1/cells/{Segment(cell)}/shadow");
    }

    /// <summary><c>GET /v1/cluster</c>.</summary>
    public static ControlPlaneRequest<ClusterView> GetCluster() => Read<ClusterView>("v1/cluster");

    /// <summary><c>GET /v1/doctor</c>.</summary>
    public static ControlPlaneRequest<DoctorReport> GetDoctor() => Read<DoctorReport>("v1/doctor");

    /// <summary><c>POST /v1/schedules</c>; repeatable only with <paramref name="idempotencyKey"/>.</summary>
    public static ControlPlaneRequest<ScheduleView> CreateSchedule(ScheduleSpec spec, string? idempotencyKey = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key(idempotencyKey);
        return new(HttpMethod.Post, "v1/schedules", repeatable: key is not null, ContractJson.Serialize(spec), key);
    }

    /// <summary><c>GET /v1/schedules</c>: one page from <paramref name="cursor"/> (null for the first).</summary>
    public static ControlPlaneRequest<SchedulePage> GetSchedulePage(int? pageSize = null, string? cursor = null) =>
        Read<SchedulePage>("v1/schedules" + PageQuery(pageSize, cursor));

    /// <summary><c>GET /v1/schedules/{id}</c>.</summary>
    public static ControlPlaneRequest<ScheduleView> GetSchedule(string id, long? minRevision = null) =>
        Read<ScheduleView>($"v1/schedules/{Segment(id)}" + MinRevisionQuery(minRevision));

    /// <summary><c>PUT /v1/schedules/{id}</c>; repeatable.</summary>
    public static ControlPlaneRequest<ScheduleView> ReplaceSchedule(string id, ScheduleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new(HttpMethod.Put, $"v1/schedules/{Segment(id)}", repeatable: true, ContractJson.Serialize(spec));
    }

    /// <summary><c>POST /v1/schedules/{id}/pause</c>; repeatable.</summary>
    public static ControlPlaneRequest<ScheduleView> PauseSchedule(string id) => new(HttpMethod.Post, $"v1/schedules/{Segment(id)}/pause", repeatable: true);

    /// <summary><c>POST /v1/schedules/{id}/resume</c>; repeatable.</summary>
    public static ControlPlaneRequest<ScheduleView> ResumeSchedule(string id) => new(HttpMethod.Post, $"v1/schedules/{Segment(id)}/resume", repeatable: true);

    /// <summary><c>POST /v1/schedules/{id}/trigger</c>; not repeatable (each one a director receives creates a job).</summary>
    public static ControlPlaneRequest<JobView> TriggerSchedule(string id) => new(HttpMethod.Post, $"v1/schedules/{Segment(id)}/trigger", repeatable: false);

    /// <summary><c>DELETE /v1/schedules/{id}</c>; repeatable.</summary>
    public static ControlPlaneRequest<ControlPlaneNoContent> DeleteSchedule(string id) => new(HttpMethod.Delete, $"v1/schedules/{Segment(id)}", repeatable: true);

    /// <summary><c>POST /v1/workflows</c>; repeatable only with <paramref name="idempotencyKey"/> (a repeat also resumes
    /// a submission that stopped half-way).</summary>
    public static ControlPlaneRequest<WorkflowView> SubmitWorkflow(WorkflowSpec spec, string? idempotencyKey = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var key = Key(idempotencyKey);
        return new(HttpMethod.Post, "v1/workflows", repeatable: key is not null, ContractJson.Serialize(spec), key);
    }

    /// <summary><c>GET /v1/workflows/{id}</c>, at <paramref name="minRevision"/> or later when given.</summary>
    public static ControlPlaneRequest<WorkflowView> GetWorkflow(string id, long? minRevision = null) =>
        Read<WorkflowView>($"v1/workflows/{Segment(id)}" + MinRevisionQuery(minRevision));

    /// <summary><c>DELETE /v1/workflows/{id}</c>; repeatable.</summary>
    public static ControlPlaneRequest<WorkflowView> CancelWorkflow(string id) => new(HttpMethod.Delete, $"v1/workflows/{Segment(id)}", repeatable: true);

    /// <summary>A GET: repeatable by nature.</summary>
    private static ControlPlaneRequest<T> Read<T>(string path)
        where T : class => new(HttpMethod.Get, path, repeatable: true);

    private static string MinRevisionQuery(long? minRevision) =>
        minRevision is { } revision ? $"?minRevision={revision.ToString(CultureInfo.InvariantCulture)}" : "";

    private static string PageQuery(int? pageSize, string? cursor)
    {
        var query = new List<string>();
        if (pageSize is { } size)
        {
            query.Add("limit=" + size.ToString(CultureInfo.InvariantCulture));
        }

        if (cursor is not null)
        {
            query.Add("cursor=" + Uri.EscapeDataString(cursor));
        }

        return query.Count == 0 ? "" : "?" + string.Join('&', query);
    }

    // Ids and names go into paths escaped, so a stray '/' or '?' cannot address another resource.
    internal static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    private static string? Key(string? idempotencyKey)
    {
        if (idempotencyKey is null)
        {
            return null;
        }

        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return idempotencyKey.Length > Limits.MaxIdempotencyKeyLength
            ? throw new ArgumentException($"An Idempotency-Key is at most {Limits.MaxIdempotencyKeyLength} characters.", nameof(idempotencyKey))
            : idempotencyKey;
    }
}
