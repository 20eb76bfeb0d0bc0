using ControlPlane.Director.Events;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Events;

/// <summary>A subscriber that reads nothing is cut off; the others keep up.</summary>
public abstract partial class EventsTests
{
    [Fact]
    public async Task A_stalled_subscriber_is_cut_off_while_another_keeps_up()
    {
        var director = await StartReadyDirectorAsync(settings: new Dictionary<string, string> { ["Events:SubscriberBuffer"] = "64" });
        var hub = director.Service<EventHub>();
        // Headers only: this client never reads the body, so the director's writes back up (the test server's pipe
        // holds 64 KiB) and its 64-event buffer fills.
        using var stalled = await SseClient.SendAsync(director.Client, "?type=job");
        await using var active = await SseClient.OpenAsync(director.Client, "?type=job");
        await Eventually.UntilAsync(() => hub.Subscribers == 2, Deadline);

        // The active subscriber reads all along, until the job named "last", submitted after the cutoff.
        var seen = new List<SseEvent>();
        var reading = Task.Run(() => ReadUntilAsync(
            active, seen, e => e.Data.GetProperty("job").GetProperty("spec").GetProperty("name").GetString() == "last", RunDeadline, "the last job on the active stream"));

        // One job event per submission (no leader here): well over 64 KiB of events in all.
        var jobs = new List<string>();
        for (var i = 0; i < 400 && hub.SlowCutoffs == 0; i++)
        {
            jobs.Add((await SubmitAsync(director.Client, new { name = $"p{i}", executor = "echo", args = new { pad = new string('x', 400) } })).Id);
        }

        await Eventually.UntilAsync(() => hub.SlowCutoffs >= 1, Deadline, () => $"{hub.SlowCutoffs} cut off after {jobs.Count} jobs");
        jobs.Add((await SubmitAsync(director.Client, new { name = "last", executor = "echo" })).Id);
        Assert.True(await reading.WaitAsync(RunDeadline));
        Assert.Equal(1, hub.SlowCutoffs);
        Assert.Equal(1, hub.Subscribers);
        Assert.DoesNotContain(seen, e => e.Type == "cutoff");
        Assert.Equal(jobs, seen.Select(e => e.Key));

        // The stalled one, read at last: what was in flight, then the cutoff with its reason, then the end.
        await using var late = await SseClient.FromResponseAsync(stalled);
        var tail = new List<SseEvent>();
        Assert.True(await ReadUntilAsync(late, tail, e => e.Type == "cutoff", Deadline, "the cutoff event"));
        Assert.Contains("too slow", tail[^1].Data.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Null(await late.NextAsync(new CancellationTokenSource(Deadline).Token));
    }
}
