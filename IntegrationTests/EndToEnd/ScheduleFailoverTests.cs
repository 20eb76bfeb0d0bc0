using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// A one-second schedule across real failures: three director processes on a three-member store, the leader killed
/// (-9) twice and a store member restarted while it fires. With <c>catchUp: all</c> every tick of the window has
/// exactly one job: none missing (the new leaders catch up what passed while nobody led), none twice (a tick's job
/// and its <c>lastTick</c> are one fenced write). One subclass per backend.
/// </summary>
public abstract class ScheduleFailoverTests : ProcessFailoverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    protected ScheduleFailoverTests(ITestOutputHelper output)
        : base(output, "e2e-schedules")
    {
    }

    [Fact]
    public async Task A_one_second_schedule_fires_each_tick_exactly_once_through_two_leader_kills_and_a_store_restart()
    {
        var (_, directors) = await StartAsync("schedules", agents: 0);
        var alive = directors.ToList();
        using var create = await directors[0].Client.Http.PostAsJsonAsync("/v1/schedules", new
        {
            cron = "* * * * * *",
            catchUp = "all",
            maxCatchUp = 1000,
            job = new { executor = "shell", command = new[] { "/bin/true" } },
        });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var schedule = ContractJson.Deserialize<ScheduleView>(await create.Content.ReadAsByteArrayAsync());

        // Fires, then: leader killed; fires again under the next leader; a store member restarted; the leader killed again.
        var last = await FiringPastAsync(alive, schedule.Id, schedule.Anchor.AddSeconds(3));
        await KillLeaderAsync(alive, Deadline);
        last = await FiringPastAsync(alive, schedule.Id, last.AddSeconds(3));
        await Servers.RestartAsync(0);
        last = await FiringPastAsync(alive, schedule.Id, last.AddSeconds(3));
        await KillLeaderAsync(alive, Deadline);
        await FiringPastAsync(alive, schedule.Id, schedule.Anchor.AddSeconds(30));

        var client = alive[0].Client.Http;
        using var paused = await client.PostAsync($"/v1/schedules/{schedule.Id}/pause", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        var final = ContractJson.Deserialize<ScheduleView>(await paused.Content.ReadAsByteArrayAsync());
        using var listed = await client.GetAsync($"/v1/jobs?schedule={schedule.Id}&limit=500&minRevision={final.Revision}");
        var page = ContractJson.Deserialize<JobPage>(await listed.Content.ReadAsByteArrayAsync());
        Assert.Null(page.Cursor);

        var expected = new List<DateTimeOffset>();
        for (var tick = NextWholeSecond(schedule.Anchor); tick <= final.LastTick; tick = tick.AddSeconds(1))
        {
            expected.Add(tick);
        }

        var fired = page.Items.Select(j => j.ScheduledFor!.Value).Order().ToList();
        Output.WriteLine($"{fired.Count} jobs for {expected.Count} ticks; missed {final.Missed}; recent: {string.Join(", ", final.Recent.Select(r => r.Outcome))}");
        Assert.True(expected.Count >= 30, $"only {expected.Count} ticks");
        Assert.Equal(expected, fired); // every tick once: none missing, none twice
        Assert.All(page.Items, j => Assert.Equal(ScheduleIds.JobIdFor(schedule.Id, j.ScheduledFor!.Value), j.Id));
        Assert.Equal((expected.Count, 0L), (final.Fired, final.Missed));
    }

    private static DateTimeOffset NextWholeSecond(DateTimeOffset t) =>
        new DateTimeOffset(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), t.Offset).AddSeconds(1);

    /// <summary>Waits until a live director shows the schedule judged past <paramref name="tick"/>; returns its lastTick.</summary>
    private static async Task<DateTimeOffset> FiringPastAsync(List<DirectorProcess> alive, string id, DateTimeOffset tick)
    {
        var view = await Eventually.UntilAsync(
            async () =>
            {
                using var response = await alive[0].Client.Http.GetAsync($"/v1/schedules/{id}");
                return ContractJson.Deserialize<ScheduleView>(await response.Content.ReadAsByteArrayAsync());
            },
            v => v.LastTick >= tick,
            Deadline);
        return view.LastTick!.Value;
    }

}

/// <summary>On ZooKeeper.</summary>
[Collection(FailureCollection.ZooKeeper)]
public sealed class ZooKeeperScheduleFailoverTests(ITestOutputHelper output) : ScheduleFailoverTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;
}

/// <summary>On etcd.</summary>
[Collection(FailureCollection.Etcd)]
public sealed class EtcdScheduleFailoverTests(ITestOutputHelper output) : ScheduleFailoverTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;
}
