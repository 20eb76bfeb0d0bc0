using System.Text.Json;

namespace ControlPlane.IntegrationTests.Dashboard;

/// <summary>
/// The dashboard's SSE module (<c>ui/sse.js</c>) tested where it runs, in Chromium: the parser on chunks that split
/// lines, <c>\r\n</c> and fields anywhere, and the reader's reconnection with <c>Last-Event-ID</c> through a fake
/// <c>fetch</c> (no event stream is needed on the director for these).
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class EventStreamModuleTests(DashboardFixture cluster)
{
    [Fact]
    public void The_parser_reassembles_events_split_across_chunks_and_keeps_the_last_id()
    {
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open();
            var result = Run(browser, """
                const { SseParser } = await import('/ui/sse.js');
                const p = new SseParser();
                const out = [];
                for (const chunk of ['\uFEFFid: 7\r', '\nevent: job\r\ndata: {"a":', '1}\n', 'data: second line\n', ': keep-alive\n\n',
                                     'data:no space\n\n', 'event: empty\n\n', 'retry: 1500\nid: 9\nevent: cutoff\ndata: {}\r\r', '\n']) {
                  out.push(...p.push(chunk));
                }
                return { out, retry: p.retry };
                """);

            var events = result.GetProperty("out").EnumerateArray().Select(e => (Type: e.GetProperty("type").GetString(), Data: e.GetProperty("data").GetString(), Id: e.GetProperty("id").GetString())).ToList();
            Assert.Equal(
                [("job", "{\"a\":1}\nsecond line", "7"), ("message", "no space", "7"), ("cutoff", "{}", "9")],
                events);
            Assert.Equal(1500, result.GetProperty("retry").GetInt32());
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public void The_reader_reconnects_after_a_cutoff_with_Last_Event_ID_and_gives_up_on_404()
    {
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open();
            var result = Run(browser, """
                const { EventStream } = await import('/ui/sse.js');
                const encoder = new TextEncoder();
                const body = text => new ReadableStream({ start(c) { c.enqueue(encoder.encode(text)); c.close(); } });
                const calls = [];
                const fetchImpl = async (url, init) => {
                  calls.push({ url, lastEventId: init.headers['Last-Event-ID'] ?? null, authorization: init.headers.Authorization ?? null });
                  if (calls.length === 1) return new Response(body('id: 41\nevent: job\ndata: {"n":1}\n\nid: 42\nevent: job\ndata: {"n":2}\n\n'), { status: 200 });
                  if (calls.length === 2) return new Response(body('event: cutoff\ndata: {"type":"cutoff","reason":"slow"}\n\n'), { status: 200 });
                  return new Response('', { status: 404 });
                };
                const states = [];
                const events = [];
                await new Promise(resolve => new EventStream('/v1/events?type=job', {
                  headers: () => ({ Authorization: 'Bearer t' }), fetchImpl, minDelay: 1, maxDelay: 5,
                  onEvent: e => events.push(e.type + ':' + e.data),
                  onState: s => { states.push(s); if (s === 'unsupported') resolve(); },
                }).start());
                return { calls, states, events };
                """);

            var calls = result.GetProperty("calls").EnumerateArray().ToList();
            Assert.Equal(3, calls.Count);
            Assert.All(calls, c => Assert.Equal("Bearer t", c.GetProperty("authorization").GetString()));
            Assert.Equal(JsonValueKind.Null, calls[0].GetProperty("lastEventId").ValueKind);
            // Both reconnections resume after the last event that carried an id, the cutoff's own connection included.
            Assert.Equal("42", calls[1].GetProperty("lastEventId").GetString());
            Assert.Equal("42", calls[2].GetProperty("lastEventId").GetString());
            Assert.Equal(
                ["job:{\"n\":1}", "job:{\"n\":2}", "cutoff:{\"type\":\"cutoff\",\"reason\":\"slow\"}"],
                result.GetProperty("events").EnumerateArray().Select(e => e.GetString()!));
            Assert.Equal(
                ["connecting", "open", "retrying", "connecting", "open", "retrying", "connecting", "unsupported"],
                result.GetProperty("states").EnumerateArray().Select(e => e.GetString()!));
        }
        finally
        {
            browser.Screenshot();
        }
    }

    // Runs an async function body in the page and returns what it returned, as JSON.
    private static JsonElement Run(DashboardBrowser browser, string body)
    {
        var script = "const done = arguments[arguments.length - 1];\n"
            + "(async () => {\n" + body + "\n})().then(r => done(JSON.stringify(r)), e => done(JSON.stringify({ error: String(e && e.stack || e) })));";
        var json = browser.RunAsync(script) as string ?? throw new InvalidOperationException("The script returned nothing.");
        var result = JsonDocument.Parse(json).RootElement;
        Assert.False(result.TryGetProperty("error", out var error), error.ToString());
        return result;
    }
}
