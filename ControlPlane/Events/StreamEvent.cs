using System.Text;

namespace ControlPlane.Director.Events;

/// <summary>The event types of <c>GET /v1/events</c>: the <c>event:</c> field and the data's <c>type</c>.</summary>
internal static class EventTypes
{
    public const string Job = "job";
    public const string Worker = "worker";
    public const string Leader = "leader";
    public const string Schedule = "schedule";
    public const string Resync = "resync";
    public const string Cutoff = "cutoff";

    /// <summary>The types a <c>type=</c> filter may name.</summary>
    public static readonly IReadOnlyList<string> Filterable = [Job, Worker, Leader, Schedule];
}

/// <summary>
/// One event, formatted once for every subscriber: <see cref="Body"/> is its <c>event:</c> and <c>data:</c> lines and
/// the blank line that ends it; the <c>id:</c> line is written in front by whoever sends it (only on the last event a
/// subscriber gets of one revision, see docs/api.md). The other fields are what filters look at.
/// </summary>
/// <param name="Type">An <see cref="EventTypes"/> value.</param>
/// <param name="Revision">The store revision of the change (the SSE id).</param>
/// <param name="Body">UTF-8 <c>event: …\ndata: …\n\n</c>.</param>
/// <param name="JobId">The job's id (job events).</param>
/// <param name="State">The job's state as the API names it (job events that are not deletions).</param>
/// <param name="Group">The job's FIFO group, if any.</param>
/// <param name="WorkerId">The worker (worker events) or the job's worker (job events).</param>
internal sealed record StreamEvent(string Type, long Revision, byte[] Body, string? JobId = null, string? State = null, string? Group = null, string? WorkerId = null)
{
    /// <summary>An event whose <c>data:</c> is <paramref name="json"/> (one line, UTF-8).</summary>
    public static StreamEvent Create(string type, long revision, ReadOnlySpan<byte> json, string? jobId = null, string? state = null, string? group = null, string? workerId = null) =>
        new(type, revision, SseFormat.Body(type, json), jobId, state, group, workerId);

    /// <inheritdoc />
    public override string ToString() => Encoding.UTF8.GetString(Body);
}

/// <summary>One event on its way to one subscriber: with or without its <c>id:</c> line.</summary>
internal readonly record struct Delivery(StreamEvent Event, bool WithId);
