using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using static ControlPlane.UnitTests.Client.ScriptedDirectors;

namespace ControlPlane.UnitTests.Client;

/// <summary>What cpctl takes from the library beyond the typed calls: whole answers (<c>SendAsync</c>), undrain, the
/// per-director report, the attempts of an unreachable call, and the event stream resumed across directors.</summary>
public sealed class ResponsesAndEventsTests
{
    private const string Id = "0123456789abcdef0123456789abcdef";
    private static readonly JobSpec Shell = new() { Executor = "shell", Command = ["/bin/true"] };

    private static bool IsA(SeenRequest r) => r.Uri.Port == A.Port;

    [Fact]
    public async Task SendAsync_returns_the_status_director_revision_and_the_body_as_sent_with_unknown_fields()
    {
        const string body = "{\"id\":\"" + Id + "\",\"state\":\"Pending\",\"revision\":9,\"futureField\":{\"x\":1}}";
        var directors = new ScriptedDirectors((r, _) =>
        {
            var response = Raw(HttpStatusCode.OK, body, "application/json");
            response.Headers.Add("X-Revision", "9");
            return IsA(r) ? throw Refused() : response;
        });

        var answer = await directors.Client().SendAsync(ControlPlaneRequest.SubmitJob(Shell, "key-1"));

        Assert.Equal((HttpStatusCode.OK, B, 9L), (answer.StatusCode, new Uri(answer.Director.GetLeftPart(UriPartial.Authority)), answer.Revision));
        Assert.Equal(body, Encoding.UTF8.GetString(answer.Content.Span));
        Assert.Equal((Id, JobState.Pending), (answer.Value.Id, answer.Value.State));
    }

    [Fact]
    public async Task A_body_that_is_not_the_record_fails_when_the_value_is_read_and_the_typed_call_fails_at_once()
    {
        var directors = new ScriptedDirectors((_, _) => Raw(HttpStatusCode.Accepted, "", "application/json"));
        var client = directors.Client();

        var answer = await client.SendAsync(ControlPlaneRequest.CancelJob(Id));

        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        Assert.True(answer.Content.IsEmpty);
        var e = Assert.Throws<ControlPlaneException>(() => answer.Value);
        Assert.Contains("not with a JobView", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ControlPlaneException>(() => client.CancelJobAsync(Id));
    }

    [Fact]
    public async Task Undrain_posts_to_the_workers_undrain_path_and_accepts_an_empty_answer()
    {
        var directors = new ScriptedDirectors((_, _) => new HttpResponseMessage(HttpStatusCode.Accepted));

        await directors.Client().UndrainWorkerAsync("w/1");

        var request = Assert.Single(directors.Requests);
        Assert.Equal((HttpMethod.Post, "/v1/workers/w%2F1/undrain"), (request.Method, request.Uri.PathAndQuery));
    }

    [Fact]
    public async Task Each_directors_part_in_a_call_is_reported_in_order()
    {
        var seen = new List<DirectorAttempt>();
        var directors = new ScriptedDirectors((r, _) => IsA(r) ? throw Refused() : Json(HttpStatusCode.Created, new JobView { Id = Id }));

        await directors.Client(o => o.OnDirectorAttempt = seen.Add).SubmitJobAsync(Shell);

        Assert.Equal(2, seen.Count);
        Assert.Equal(("POST /v1/jobs", A.Port, (HttpStatusCode?)null, B.Port, false), (seen[0].Call, seen[0].Director.Port, seen[0].StatusCode, seen[0].Next!.Port, seen[0].Answered));
        Assert.Contains("Connection refused", seen[0].Failure, StringComparison.Ordinal);
        Assert.Equal((B.Port, (HttpStatusCode?)HttpStatusCode.Created, (Uri?)null, true), (seen[1].Director.Port, seen[1].StatusCode, seen[1].Next, seen[1].Answered));
    }

    [Fact]
    public async Task An_unreachable_call_lists_its_attempts_and_says_whether_it_stopped_because_it_must_not_be_repeated()
    {
        var broken = new ScriptedDirectors((_, _) => throw Broken());
        var refused = new ScriptedDirectors((_, _) => throw Refused());

        var stopped = await Assert.ThrowsAsync<ControlPlaneUnreachableException>(() => broken.Client(o => o.MaxRetryAttempts = 0).SubmitJobAsync(Shell));
        var walked = await Assert.ThrowsAsync<ControlPlaneUnreachableException>(() => refused.Client(o => o.MaxRetryAttempts = 0).GetJobAsync(Id));

        Assert.True(stopped.StoppedUnrepeatable);
        var only = Assert.Single(stopped.Attempts);
        Assert.Equal((A.Port, (Uri?)null), (only.Director.Port, only.Next));
        Assert.False(walked.StoppedUnrepeatable);
        Assert.Equal([A.Port, B.Port], walked.Attempts.Select(a => a.Director.Port));
        Assert.All(walked.Attempts, a => Assert.Contains("Connection refused", a.Failure, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Events_resume_with_the_last_id_on_the_next_director_when_a_stream_ends_and_the_filter_is_the_query()
    {
        var progress = new List<EventStreamProgress>();
        var directors = new ScriptedDirectors((r, n) => n switch
        {
            0 => Events(JobEvent(41) + ": keepalive\n\n" + JobEvent(42)),
            1 => throw Refused(),
            _ => Events(JobEvent(43)),
        });
        var client = directors.Client(o => o.MaxRetryAttempts = 0);
        var filter = new EventFilter { Types = ["job"], Jobs = [Id, "b"], States = ["Running"] };

        var events = await client.StreamEventsAsync(filter, after: 40, new SyncProgress(progress.Add)).Take(3).ToListAsync();

        Assert.Equal([41L, 42L, 43L], events.Select(e => e.Id!.Value));
        Assert.Equal("job", events[0].Type);
        Assert.Equal([(A.Port, "40"), (A.Port, "42"), (B.Port, "42")], directors.Requests.Select(r => (r.Uri.Port, r.LastEventId!)));
        Assert.Equal($"/v1/events?state=Running&type=job&job={Id}%2Cb", directors.Requests[0].Uri.PathAndQuery);
        Assert.Equal(B.Port, events[2].Director.Port);
        Assert.Equal([EventStreamProgressKind.Opened, EventStreamProgressKind.Opened], progress.Select(p => p.Kind));
        Assert.Equal(42, progress[1].LastEventId);
    }

    [Fact]
    public async Task A_cutoff_is_reported_not_yielded_and_the_stream_resumes_after_it()
    {
        var progress = new List<EventStreamProgress>();
        var directors = new ScriptedDirectors((_, n) => n == 0
            ? Events(JobEvent(41) + "event: cutoff\ndata: {\"reason\":\"too slow\"}\n\n" + JobEvent(99))
            : Events(JobEvent(42)));

        var events = await directors.Client().StreamEventsAsync(progress: new SyncProgress(progress.Add)).Take(2).ToListAsync();

        Assert.Equal([41L, 42L], events.Select(e => e.Id!.Value));
        var cutoff = Assert.Single(progress, p => p.Kind == EventStreamProgressKind.CutOff);
        Assert.Equal("too slow", cutoff.Reason);
        Assert.Equal("41", directors.Requests[1].LastEventId);
    }

    [Fact]
    public async Task An_answer_that_is_not_an_event_stream_ends_the_enumeration_and_an_error_answer_is_its_exception()
    {
        var json = new ScriptedDirectors((_, _) => Json(HttpStatusCode.OK, new JobView { Id = Id }));
        var refused = new ScriptedDirectors((_, _) => Problem(HttpStatusCode.BadRequest, "The request is invalid.", "state: unknown"));

        var e = await Assert.ThrowsAsync<ControlPlaneEventStreamException>(() => json.Client().StreamEventsAsync().ToListAsync().AsTask());
        await Assert.ThrowsAsync<ControlPlaneValidationException>(() => refused.Client().StreamEventsAsync().ToListAsync().AsTask());

        Assert.Contains("not an event stream", e.Message, StringComparison.Ordinal);
        Assert.Single(json.Requests);
    }

    [Fact]
    public async Task A_stream_that_cannot_be_opened_is_retried_after_a_backoff_on_the_clients_clock()
    {
        var time = new ManualTimeProvider();
        var progress = new List<EventStreamProgress>();
        var directors = new ScriptedDirectors((_, n) => n < 2 ? Problem(HttpStatusCode.ServiceUnavailable, "Not ready.", "loading") : Events(JobEvent(41)));
        var client = directors.Client(o => o.MaxRetryAttempts = 0, time);

        var first = client.StreamEventsAsync(progress: new SyncProgress(p => { lock (progress) { progress.Add(p); } })).FirstAsync().AsTask();
        await Eventually.UntilAsync(() => time.PendingTimers > 0, TimeSpan.FromSeconds(10));
        Assert.False(first.IsCompleted);
        time.Advance(ControlPlaneClient.MaxEventStreamDelay);

        var e = await Eventually.WithinAsync(first, TimeSpan.FromSeconds(10), "the first event");
        Assert.Equal(41, e.Id);
        var retry = Assert.Single(progress, p => p.Kind == EventStreamProgressKind.Retrying);
        Assert.Equal(1, retry.Retry);
        Assert.InRange(retry.Delay, ControlPlaneClient.FirstEventStreamDelay * 0.75, ControlPlaneClient.FirstEventStreamDelay * 1.25);
        Assert.Contains("503", retry.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streams_that_keep_failing_before_any_event_are_given_up_after_the_last_retry_with_the_last_answer()
    {
        var time = new ManualTimeProvider();
        var progress = new List<EventStreamProgress>();
        var directors = new ScriptedDirectors((_, _) => Problem(HttpStatusCode.ServiceUnavailable, "Not ready.", "loading"));
        var client = directors.Client(o => o.MaxRetryAttempts = 0, time);

        var stream = client.StreamEventsAsync(progress: new SyncProgress(p => { lock (progress) { progress.Add(p); } })).FirstAsync().AsTask();
        for (var retry = 1; retry <= ControlPlaneClient.MaxEventStreamRetries; retry++)
        {
            // Exactly the pause announced: a longer step could also run the next attempt's pause.
            var delay = await AnnouncedPauseAsync(time, progress, retry);
            time.Advance(delay);
        }

        var e = await Assert.ThrowsAsync<ControlPlaneUnavailableException>(() => Eventually.WithinAsync(stream, TimeSpan.FromSeconds(10), "giving up"));
        Assert.Contains("Not ready", e.Message, StringComparison.Ordinal);
        List<EventStreamProgress> retries;
        lock (progress)
        {
            retries = [.. progress.Where(p => p.Kind == EventStreamProgressKind.Retrying)];
        }

        Assert.Equal(Enumerable.Range(1, ControlPlaneClient.MaxEventStreamRetries), retries.Select(p => p.Retry));
        Assert.All(retries, p =>
        {
            var median = Math.Min(
                ControlPlaneClient.FirstEventStreamDelay.TotalSeconds * Math.Pow(2, p.Retry - 1), ControlPlaneClient.MaxEventStreamDelay.TotalSeconds);
            Assert.InRange(p.Delay.TotalSeconds, median * 0.75, median * 1.25);
        });
        Assert.Equal(ControlPlaneClient.MaxEventStreamRetries + 1, directors.Requests.Count(IsA));
    }

    [Fact]
    public async Task A_stream_that_delivered_starts_the_retries_and_their_pauses_afresh()
    {
        var time = new ManualTimeProvider();
        var progress = new List<EventStreamProgress>();
        // Each attempt asks A, then B on a 503: two refused attempts, one event (then the stream ends), one refused
        // attempt, then events again.
        var directors = new ScriptedDirectors((_, n) => n switch
        {
            4 => Events(JobEvent(41)),
            >= 7 => Events(JobEvent(42)),
            _ => Problem(HttpStatusCode.ServiceUnavailable, "Not ready.", "loading"),
        });
        var client = directors.Client(o => o.MaxRetryAttempts = 0, time);

        var events = client.StreamEventsAsync(progress: new SyncProgress(p => { lock (progress) { progress.Add(p); } })).Take(2).ToListAsync().AsTask();
        for (var retry = 1; retry <= 3; retry++)
        {
            time.Advance(await AnnouncedPauseAsync(time, progress, retry));
        }

        Assert.Equal(new long?[] { 41, 42 }, (await Eventually.WithinAsync(events, TimeSpan.FromSeconds(10), "two events")).Select(e => e.Id));
        lock (progress)
        {
            Assert.Equal(new[] { 1, 2, 1 }, progress.Where(p => p.Kind == EventStreamProgressKind.Retrying).Select(p => p.Retry));
            // The pause after the delivering stream is a first pause again (0.5 s ±25 %), not the third of a series.
            var pauses = progress.Where(p => p.Kind == EventStreamProgressKind.Retrying).Select(p => p.Delay).ToList();
            Assert.InRange(pauses[1], ControlPlaneClient.FirstEventStreamDelay * 1.5, ControlPlaneClient.FirstEventStreamDelay * 2.5);
            Assert.InRange(pauses[2], ControlPlaneClient.FirstEventStreamDelay * 0.75, ControlPlaneClient.FirstEventStreamDelay * 1.25);
        }
    }

    /// <summary>Waits until the client is in the pause of its <paramref name="count"/>-th retry report and returns it.</summary>
    private static async Task<TimeSpan> AnnouncedPauseAsync(ManualTimeProvider time, List<EventStreamProgress> progress, int count)
    {
        List<EventStreamProgress> Retries()
        {
            lock (progress)
            {
                return [.. progress.Where(p => p.Kind == EventStreamProgressKind.Retrying)];
            }
        }

        await Eventually.UntilAsync(() => time.PendingTimers > 0 && Retries().Count == count, TimeSpan.FromSeconds(10),
            () => $"retry {count}: {time.PendingTimers} timers, {Retries().Count} retries reported");
        return Retries()[^1].Delay;
    }

    private static string JobEvent(long revision) =>
        $"id: {revision}\nevent: job\ndata: {{\"type\":\"job\",\"revision\":{revision},\"id\":\"{Id}\"}}\n\n";

    private static HttpResponseMessage Events(string body) => Raw(HttpStatusCode.OK, body, "text/event-stream");

    private static HttpResponseMessage Raw(HttpStatusCode status, string body, string mediaType) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8) { Headers = { ContentType = new MediaTypeHeaderValue(mediaType) } } };

    /// <summary>Reports on the calling thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<EventStreamProgress> report) : IProgress<EventStreamProgress>
    {
        public void Report(EventStreamProgress value) => report(value);
    }
}
