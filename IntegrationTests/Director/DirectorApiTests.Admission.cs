using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination.Election;
using ControlPlane.Director.Api;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    private static readonly Dictionary<string, string> SmallLimits = new()
    {
        ["Scheduler:MaxPending"] = "3",
        ["Scheduler:MaxPendingPerGroup"] = "2",
        ["Scheduler:QueueStatusInterval"] = "00:00:00.1",
    };

    [Fact]
    public async Task Admission_refuses_with_429_at_MaxPending_while_a_replay_is_still_answered()
    {
        var director = StartDirector(settings: SmallLimits);
        using var accepted = await PostJobAsync(director.Client, ShellJob("before"), "admission-key");
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        var job = await ReadAsync<JobView>(accepted);

        // The test's own candidate leads and publishes, as the leader's loop does after a pass.
        var (election, epoch) = await LeadAsync();
        var publisher = Publisher();
        Assert.True(await publisher.PublishAsync(election, epoch, 3, new Dictionary<string, int>(), default));
        await WaitForPendingAsync(director, 3);

        using (var refused = await PostJobAsync(director.Client, ShellJob("flood")))
        {
            var problem = await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            Assert.Equal("Scheduler:MaxPending", problem.GetProperty("setting").GetString());
            Assert.Equal((3, 3), (problem.GetProperty("pending").GetInt32(), problem.GetProperty("limit").GetInt32()));
            Assert.Contains("Retry after 1 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // A replay creates nothing: it is answered with the existing job; another spec under the key is still a conflict.
        using (var replay = await PostJobAsync(director.Client, ShellJob("before"), "admission-key"))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(job.Id, (await ReadAsync<JobView>(replay)).Id);
            Assert.Equal($"/v1/jobs/{job.Id}", replay.Headers.Location?.OriginalString);
        }

        using (var conflict = await PostJobAsync(director.Client, ShellJob("other"), "admission-key"))
        {
            await AssertProblemAsync(conflict, HttpStatusCode.Conflict);
        }

        using (var newKey = await PostJobAsync(director.Client, ShellJob("flood"), "admission-key-2"))
        {
            await AssertProblemAsync(newKey, HttpStatusCode.TooManyRequests);
        }

        var metrics = MetricsScrape.Parse(await director.Client.GetStringAsync("/metrics"));
        Assert.Equal(2, metrics.Value("controlplane_api_admission_refused_total", ("limit", "pending")));
        Assert.Equal(0, metrics.Value("controlplane_api_admission_refused_total", ("limit", "group")));

        // No leader, no limit: the counts of a leader that is gone are not trusted, so the API keeps accepting.
        await election.ResignAsync();
        await Eventually.UntilAsync(() => director.Service<QueueStatusWatcher>().Current is null, Deadline);
        using var afterLeader = await PostJobAsync(director.Client, ShellJob("no leader"));
        Assert.Equal(HttpStatusCode.Created, afterLeader.StatusCode);
    }

    [Fact]
    public async Task Admission_refuses_a_full_fifo_group_and_admits_the_others()
    {
        var director = StartDirector(settings: SmallLimits);
        var (election, epoch) = await LeadAsync();
        var publisher = Publisher();
        Assert.True(await publisher.PublishAsync(election, epoch, 2, new Dictionary<string, int> { ["full"] = 2, ["other"] = 0 }, default));
        await WaitForPendingAsync(director, 2);

        using (var refused = await PostJobAsync(director.Client, ShellJob("more", group: "full")))
        {
            var problem = await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
            Assert.Equal("Scheduler:MaxPendingPerGroup", problem.GetProperty("setting").GetString());
            Assert.Equal("full", problem.GetProperty("group").GetString());
        }

        using (var otherGroup = await PostJobAsync(director.Client, ShellJob("fine", group: "other")))
        {
            Assert.Equal(HttpStatusCode.Created, otherGroup.StatusCode);
        }

        // The group drains: the next publication (one interval later) opens it again.
        await Eventually.UntilAsync(async () => await publisher.PublishAsync(election, epoch, 1, new Dictionary<string, int> { ["full"] = 1 }, default), Deadline);
        await WaitForPendingAsync(director, 1);
        using var reopened = await PostJobAsync(director.Client, ShellJob("again", group: "full"));
        Assert.Equal(HttpStatusCode.Created, reopened.StatusCode);
    }

    private static QueueStatusPublisher Publisher() => new(
        Options.Create(new AdmissionOptions { MaxPending = 3, MaxPendingPerGroup = 2, QueueStatusInterval = TimeSpan.FromMilliseconds(100) }),
        TimeProvider.System,
        NullLogger<QueueStatusPublisher>.Instance);

    private async Task<(LeaderElection Election, long Epoch)> LeadAsync()
    {
        var store = await ConnectStoreAsync();
        var election = Own(new LeaderElection(store, new LeaderElectionOptions { ElectionKey = StoreLayout.Election, CandidateValue = "{}"u8.ToArray() }));
        election.Start();
        var leadership = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "the test's candidate leads");
        return (election, leadership.Epoch);
    }

    private static Task WaitForPendingAsync(DirectorHost director, int pending)
    {
        // The director sees the record through its watch caches: wait for them, not for a fixed time.
        var watcher = director.Service<QueueStatusWatcher>();
        return Eventually.UntilAsync(() => watcher.Current?.Pending == pending, Deadline, () => $"the director sees {watcher.Current?.Pending.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no counts"}");
    }
}
