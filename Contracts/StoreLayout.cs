using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts;

/// <summary>
/// The key tree under the store root (docs/store-layout.md). Every value is a UTF-8 JSON record carrying its
/// schema version, and values live only at leaves, so the same tree reads alike in <c>zkCli.sh</c> and
/// <c>etcdctl</c>.
/// </summary>
public static class StoreLayout
{
    /// <summary><c>meta/schema</c>: <c>{"layoutVersion":1}</c>.</summary>
    public const string Schema = "meta/schema";

    /// <summary><c>meta/cells</c>: one record per named cell (<see cref="CellRecord"/>), written by the cell's first agent,
    /// which the directors list to campaign in every cell (docs/cells.md).</summary>
    public const string CellRegistry = "meta/cells";

    /// <summary><c>meta/cells/&lt;cell&gt;</c>: the record saying a named cell exists.</summary>
    public static string CellRecord(string cell) => $"{CellRegistry}/{cell}";

    /// <summary><c>meta/cell-policies</c>: one record per cell whose leadership is gated by director version
    /// (<see cref="Directors.CellPolicyRecord"/>), written through the API (<c>cpctl cell pin</c>); a cell without one may be
    /// led by any version. Global, not in the cell's subtree, so a cell's leader cannot change its own policy.</summary>
    public const string CellPolicies = "meta/cell-policies";

    /// <summary><c>meta/cell-policies/&lt;cell&gt;</c>: <paramref name="cell"/>'s leadership policy.</summary>
    public static string CellPolicy(string cell) => $"{CellPolicies}/{cell}";

    /// <summary><c>meta/shadows</c>: the reports of shadow directors, <c>meta/shadows/&lt;cell&gt;/&lt;directorId&gt;</c>
    /// (<see cref="Directors.ShadowReport"/>; ephemeral, on the shadow's session; docs/cells.md).</summary>
    public const string Shadows = "meta/shadows";

    /// <summary><c>meta/shadows/&lt;cell&gt;</c>: the parent of the reports of the shadows following <paramref name="cell"/>.</summary>
    public static string ShadowsOf(string cell) => $"{Shadows}/{cell}";

    /// <summary>Election candidates of the directors.</summary>
    public const string Election = "directors/election";

    /// <summary>Parent of directors' ephemeral records.</summary>
    public const string Directors = "directors/members";

    /// <summary>Parent of workers' ephemeral registrations.</summary>
    public const string Workers = "workers";

    /// <summary>Parent of drain requests.</summary>
    public const string Drains = "drains";

    /// <summary>Parent of suspect markers.</summary>
    public const string Suspects = "suspects";

    /// <summary>Parent of job buckets.</summary>
    public const string Jobs = "jobs";

    /// <summary>Parent of per-worker assignment directories.</summary>
    public const string Assignments = "assignments";

    /// <summary>Parent of a cell's progressive feature rollouts (<see cref="ControlPlane.Contracts.Rollouts.RolloutRecord"/>), one per feature.</summary>
    public const string Rollouts = "rollouts";

    /// <summary>The rollout record of <paramref name="feature"/> in a cell's subtree.</summary>
    public static string Rollout(string feature) => $"{Rollouts}/{feature}";

    /// <summary>Parent of idempotency buckets.</summary>
    public const string Idempotency = "idempotency";

    /// <summary><c>status/queue</c>: the leader's pending counts (<see cref="Jobs.QueueStatusRecord"/>), read by every
    /// director for admission control.</summary>
    public const string QueueStatus = "status/queue";

    /// <summary>Parent of schedule records.</summary>
    public const string Schedules = "schedules";

    /// <summary>Parent of workflow records.</summary>
    public const string Workflows = "workflows";

    /// <summary><c>workflows/&lt;id&gt;</c>: the gate of a workflow's jobs (<see cref="Workflows.WorkflowRecord"/>).</summary>
    public static string Workflow(string workflowId) => $"{Workflows}/{workflowId}";

    /// <summary>Parent of the concurrency keys' buckets (<see cref="Jobs.ConcurrencyRecord"/>).</summary>
    public const string Concurrency = "concurrency";

    /// <summary><c>concurrency/&lt;bucket&gt;/&lt;hash&gt;</c>: the record of a concurrency key whose SHA-256 (hex, 64
    /// digits, <see cref="Jobs.ConcurrencyRecord.HashOf"/>) is <paramref name="keyHash"/>, bucketed by its first two digits.</summary>
    public static string ConcurrencyRecord(string keyHash) => $"{Concurrency}/{keyHash[..2]}/{keyHash}";

    /// <summary><c>schedules/&lt;id&gt;</c>: a recurring job (<see cref="Schedules.ScheduleRecord"/>).</summary>
    public static string Schedule(string scheduleId) => $"{Schedules}/{scheduleId}";

    /// <summary><c>jobs/&lt;bucket&gt;/&lt;id&gt;</c>.</summary>
    public static string Job(string jobId) => $"{Jobs}/{JobIds.Bucket(jobId)}/{jobId}";

    /// <summary><c>jobs/&lt;bucket&gt;</c> for bucket number 0–255.</summary>
    public static string JobBucket(int bucket) => $"{Jobs}/{bucket:x2}";

    /// <summary><c>workers/&lt;workerId&gt;</c>.</summary>
    public static string Worker(string workerId) => $"{Workers}/{workerId}";

    /// <summary><c>drains/&lt;workerId&gt;</c>.</summary>
    public static string Drain(string workerId) => $"{Drains}/{workerId}";

    /// <summary><c>suspects/&lt;workerId&gt;</c>.</summary>
    public static string Suspect(string workerId) => $"{Suspects}/{workerId}";

    /// <summary><c>assignments/&lt;workerId&gt;</c>: the subtree an agent watches.</summary>
    public static string WorkerAssignments(string workerId) => $"{Assignments}/{workerId}";

    /// <summary><c>assignments/&lt;workerId&gt;/&lt;jobId&gt;.&lt;attempt&gt;</c>.</summary>
    public static string Assignment(string workerId, string jobId, int attempt) => $"{Assignments}/{workerId}/{jobId}.{attempt}";

    /// <summary><c>directors/members/&lt;directorId&gt;</c>.</summary>
    public static string Director(string directorId) => $"{Directors}/{directorId}";

    /// <summary><c>idempotency/&lt;bucket&gt;/&lt;hash&gt;</c>: the key's SHA-256 (hex, 64 digits), bucketed by its first two digits.</summary>
    public static string IdempotencyRecord(string keyHash) => $"{Idempotency}/{keyHash[..2]}/{keyHash}";

    /// <summary>Splits <c>&lt;jobId&gt;.&lt;attempt&gt;</c>, the last segment of an assignment key.</summary>
    public static bool TryParseAssignmentName(string name, out string jobId, out int attempt)
    {
        ArgumentNullException.ThrowIfNull(name);
        jobId = "";
        attempt = 0;
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !int.TryParse(name.AsSpan(dot + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out attempt)
            || attempt < 1 || !JobIds.IsValid(name[..dot]))
        {
            return false;
        }

        jobId = name[..dot];
        return true;
    }
}

/// <summary>The record at <c>meta/cells/&lt;cell&gt;</c>: a named cell exists (docs/cells.md).</summary>
public sealed record CellRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The cell's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>When it was first registered (the registering process's clock).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Who registered it: the worker id of its first agent.</summary>
    public string? CreatedBy { get; init; }
}

/// <summary>The record at <c>meta/schema</c>.</summary>
/// <param name="LayoutVersion">Key layout version (<see cref="Protocol.LayoutVersion"/>).</param>
public sealed record SchemaRecord(int LayoutVersion);

/// <summary>The record at <c>idempotency/&lt;bucket&gt;/&lt;hash&gt;</c>.</summary>
public sealed record IdempotencyRecord
{
    /// <summary>Schema version of this record.</summary>
    public int Schema { get; init; } = Protocol.SchemaVersion;

    /// <summary>The client's key, verbatim.</summary>
    public string Key { get; init; } = "";

    /// <summary>The job it created.</summary>
    public string JobId { get; init; } = "";

    /// <summary>SHA-256 (hex) of the normalized spec, to tell a replay from a conflicting reuse.</summary>
    public string SpecHash { get; init; } = "";

    /// <summary>The cell the job was written in (docs/cells.md) when it is a named one; null (omitted) for the default
    /// cell, whose records are as before cells.</summary>
    public string? Cell { get; init; }
}
