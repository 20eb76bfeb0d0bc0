namespace ControlPlane.Client;

/// <summary>One event of <c>GET /v1/events</c>, as <see cref="ControlPlaneClient.StreamEventsAsync"/> yields it (the
/// wire format and each type's data are in docs/events.md).</summary>
/// <param name="Id">The <c>id:</c> field, the store revision of the change; the resume point. Null when the event had none.</param>
/// <param name="Type">The <c>event:</c> field: <c>job</c>, <c>worker</c>, <c>leader</c>, <c>schedule</c> or <c>resync</c>
/// (changes were lost to the stream: read the state afresh).</param>
/// <param name="Data">The <c>data:</c> field as sent: one JSON object.</param>
/// <param name="Director">The director whose stream delivered it.</param>
public sealed record ControlPlaneEvent(long? Id, string Type, string Data, Uri Director);

/// <summary>Which events <see cref="ControlPlaneClient.StreamEventsAsync"/> asks for; every filter is optional, and the
/// director checks the values (a bad one is a <see cref="ControlPlaneValidationException"/> naming it).</summary>
public sealed record EventFilter
{
    /// <summary>Only these event types: <c>job</c>, <c>worker</c>, <c>leader</c>, <c>schedule</c>.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>Only these jobs' events (ids; the director takes at most 100).</summary>
    public IReadOnlyList<string>? Jobs { get; init; }

    /// <summary>Only job events in these states, e.g. <c>Failed</c>, <c>Cancelled</c>.</summary>
    public IReadOnlyList<string>? States { get; init; }

    /// <summary>Only job events of this FIFO group.</summary>
    public string? Group { get; init; }

    /// <summary>Only this worker's events and those of the jobs on it.</summary>
    public string? Worker { get; init; }

    /// <summary>The path and query of the stream, e.g. <c>v1/events?type=job&amp;job=…</c>.</summary>
    internal string ToPath()
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                query.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("state", States is null ? null : string.Join(',', States));
        Add("group", Group);
        Add("worker", Worker);
        Add("type", Types is null ? null : string.Join(',', Types));
        Add("job", Jobs is null ? null : string.Join(',', Jobs));
        return "v1/events" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
    }
}

/// <summary>What <see cref="EventStreamProgress"/> reports.</summary>
public enum EventStreamProgressKind
{
    /// <summary>A director's stream is open (<see cref="EventStreamProgress.Director"/>), resuming after
    /// <see cref="EventStreamProgress.LastEventId"/> when set.</summary>
    Opened,

    /// <summary>The director ended its stream on purpose (a <c>cutoff</c> event: the reader was too slow, the director
    /// is stopping); <see cref="EventStreamProgress.Reason"/> says why. The stream is opened again.</summary>
    CutOff,

    /// <summary>Opening or reading failed before any event; the client waits <see cref="EventStreamProgress.Delay"/> and
    /// tries again (retry <see cref="EventStreamProgress.Retry"/> of <see cref="ControlPlaneClient.MaxEventStreamRetries"/>).</summary>
    Retrying,
}

/// <summary>How an event stream of <see cref="ControlPlaneClient.StreamEventsAsync"/> is doing, for a program that says
/// so (cpctl prints it on stderr).</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Call">The stream's call, e.g. <c>GET /v1/events?type=job</c>.</param>
/// <param name="Director">The director concerned, when one is.</param>
/// <param name="LastEventId">The resume point: the id of the last event delivered (or the <c>after</c> given).</param>
/// <param name="Reason">For <see cref="EventStreamProgressKind.CutOff"/> and <see cref="EventStreamProgressKind.Retrying"/>: why.</param>
/// <param name="Delay">For <see cref="EventStreamProgressKind.Retrying"/>: the wait before the next try.</param>
/// <param name="Retry">For <see cref="EventStreamProgressKind.Retrying"/>: which retry in a row this is, from 1.</param>
public sealed record EventStreamProgress(EventStreamProgressKind Kind, string Call, Uri? Director, long? LastEventId, string? Reason, TimeSpan Delay, int Retry);

/// <summary>
/// The event stream could not be kept open: a director answered <c>GET /v1/events</c> with something that is not an event
/// stream (an older director, a proxy's page), or streams kept breaking before any event
/// <see cref="ControlPlaneClient.MaxEventStreamRetries"/> times in a row. Error answers and unreachable directors are
/// reported with their own exceptions.
/// </summary>
public sealed class ControlPlaneEventStreamException(string message, Uri? director = null, Exception? inner = null)
    : ControlPlaneException(message, null, null, director, inner);
