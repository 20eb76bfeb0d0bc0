using System.Globalization;
using ControlPlane.Director.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Events;

/// <summary><c>GET /v1/events</c>: the event stream (Server-Sent Events), wire format in docs/api.md.</summary>
internal static class EventEndpoints
{
    /// <summary>The header browsers send when an <c>EventSource</c> reconnects.</summary>
    public const string LastEventIdHeader = "Last-Event-ID";

    /// <summary>What the OpenAPI description says about the stream (the fixed wire format).</summary>
    private const string Description = """
        Server-Sent Events (text/event-stream) of job, worker, leader and schedule changes, served by every director from its
        own watch of the store. Each event is `id: <store revision>` (decimal; on the last event of a revision only: several
        changes committed in one transaction share a revision), `event: job|worker|leader|schedule|resync|cutoff` and
        `data: <one-line JSON>`:
        job `{"type":"job","revision":N,"id":"<job id>","deleted":false,"version":V,"job":{GET /v1/jobs/{id}}}`;
        worker `{"type":"worker","revision":N,"id":"<worker id>","deleted":false,"version":V,"worker":{an item of GET /v1/workers}}`;
        leader `{"type":"leader","revision":N,"leader":{GET /v1/leader}|null}`;
        schedule `{"type":"schedule","revision":N,"id":"...","deleted":false,"version":V,"schedule":{GET /v1/schedules/{id}}}`
        (a deletion has `"deleted":true` and no view); resync `{"type":"resync","revision":N,"reason":"..."}`: re-read the lists;
        cutoff `{"type":"cutoff","reason":"..."}`, then the response ends. A `: keepalive` comment comes every 15 s on an idle
        stream. Resume with the `Last-Event-ID` header (wins) or `?since=<revision>`: every change after it that the
        director still holds, else a resync. Filters (all must hold): `job` (up to 100 ids) and `state` (comma-separated), `group` and `worker`
        select job events (`worker` also that worker's events), `type` (comma-separated) selects event types.
        503 when the director has not loaded the store yet or already serves Events:MaxSubscribers streams.
        """;

    public static RouteGroupBuilder MapEventEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/events", Subscribe)
            .WithTags("Events")
            .WithName("StreamEvents")
            .WithSummary("A live stream (Server-Sent Events) of job, worker, leader and schedule changes; resumable with Last-Event-ID.")
            .WithDescription(Description)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return v1;
    }

    private static IResult Subscribe(
        HttpContext context,
        EventHub hub,
        IOptions<EventsOptions> options,
        TimeProvider time,
        [FromQuery] string? job,
        [FromQuery] string? state,
        [FromQuery] string? group,
        [FromQuery] string? worker,
        [FromQuery] string? type,
        [FromQuery] string? since)
    {
        var errors = new List<(string Field, string Message)>();
        var filter = EventFilter.Parse(job, state, group, worker, type, errors);
        long? from = null;
        // A reconnecting EventSource sends Last-Event-ID and keeps the URL it started with: the header is the newer word.
        var header = context.Request.Headers[LastEventIdHeader];
        if (header.Count > 0)
        {
            if (header.Count != 1 || !TryRevision(header[0], out var id))
            {
                errors.Add((LastEventIdHeader, "A revision: a non-negative decimal integer, as sent in an event's id."));
            }
            else
            {
                from = id;
            }
        }

        if (since is not null)
        {
            if (!TryRevision(since, out var value))
            {
                errors.Add(("since", "A revision: a non-negative decimal integer (an event's id, or the X-Revision of a listing)."));
            }
            else
            {
                from ??= value;
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Fields(errors);
        }

        var (outcome, subscription) = hub.Subscribe(filter!, from);
        return outcome switch
        {
            SubscribeOutcome.NotReady => Problems.Unavailable(context, "This director has not loaded the store yet; try again, or another director.", "The event stream is not ready."),
            SubscribeOutcome.Full => Problems.Unavailable(
                context, $"This director already serves {options.Value.MaxSubscribers} event streams (Events:MaxSubscribers); try another director.", "Too many event streams."),
            _ => new EventStreamResult(subscription!, hub, options.Value.KeepAliveInterval, time),
        };
    }

    private static bool TryRevision(string? text, out long revision) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out revision);
}
