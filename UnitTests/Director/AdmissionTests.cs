using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Caching;
using ControlPlane.Director.Api;
using ControlPlane.Director.Hosting;
using ControlPlane.TestSupport.Coordination;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.UnitTests.Director;

/// <summary>The admission rule (a pure function of the published counts and the options) and the view that feeds it
/// from watch caches of the in-memory store.</summary>
public sealed class AdmissionTests
{
    private static readonly AdmissionOptions Limits = new() { MaxPending = 1000, MaxPendingPerGroup = 100, QueueStatusInterval = TimeSpan.FromSeconds(1) };

    [Fact]
    public void Without_published_counts_nothing_is_refused()
    {
        Assert.Null(Admission.Check(null, "g", Limits));
        Assert.Null(Admission.Check(null, null, Limits));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    public void Below_the_limit_a_job_is_admitted(int pending) =>
        Assert.Null(Admission.Check(Status(pending), null, Limits));

    [Fact]
    public void At_the_limit_a_job_is_refused_naming_the_setting_the_count_and_when_to_retry()
    {
        var refusal = Admission.Check(Status(1000), "any", Limits);

        Assert.NotNull(refusal);
        Assert.Equal(("Scheduler:MaxPending", null, 1000, 1000, 1, "pending"), (refusal.Setting, refusal.Group, refusal.Pending, refusal.Limit, refusal.RetryAfterSeconds, refusal.Kind));
    }

    [Fact]
    public void A_group_at_its_limit_is_refused_while_other_groups_and_ungrouped_jobs_are_admitted()
    {
        var status = Status(300, ("full", 100), ("half", 60));

        var refusal = Admission.Check(status, "full", Limits);

        Assert.NotNull(refusal);
        Assert.Equal(("Scheduler:MaxPendingPerGroup", "full", 100, 100, "group"), (refusal.Setting, refusal.Group, refusal.Pending, refusal.Limit, refusal.Kind));
        Assert.Null(Admission.Check(status, "half", Limits));
        Assert.Null(Admission.Check(status, "unlisted", Limits));
        Assert.Null(Admission.Check(status, null, Limits));
        // Group names are exact: case matters as it does for FIFO ordering.
        Assert.Null(Admission.Check(status, "FULL", Limits));
    }

    [Fact]
    public void A_limit_of_zero_is_off()
    {
        var off = new AdmissionOptions { MaxPending = 0, MaxPendingPerGroup = 0 };

        Assert.Null(Admission.Check(Status(int.MaxValue, ("g", int.MaxValue)), "g", off));
    }

    [Theory]
    [InlineData(1000, 1, 1)]    // at the limit: one publish interval
    [InlineData(1049, 1, 1)]
    [InlineData(1050, 1, 2)]    // one more second per 5 % over
    [InlineData(1100, 1, 3)]
    [InlineData(5000, 1, 5)]    // capped
    [InlineData(1000, 0.2, 1)]  // never below 1 s
    [InlineData(1000, 3, 3)]    // never below the interval
    [InlineData(9000, 30, 30)]  // a long interval is its own cap
    public void Retry_after_is_the_interval_and_grows_with_the_excess_up_to_five_seconds(int pending, double intervalSeconds, int expected) =>
        Assert.Equal(expected, Admission.RetryAfterSeconds(pending, 1000, TimeSpan.FromSeconds(intervalSeconds)));

    [Fact]
    public void Options_validation_names_every_bad_setting_and_accepts_the_defaults()
    {
        Assert.Empty(new AdmissionOptions().Problems());
        Assert.Equal((200_000, 10_000, TimeSpan.FromSeconds(1), 5_000), (new AdmissionOptions().MaxPending, new AdmissionOptions().MaxPendingPerGroup, new AdmissionOptions().QueueStatusInterval, new AdmissionOptions().GroupReportThreshold));

        var problems = new AdmissionOptions { MaxPending = -1, MaxPendingPerGroup = -1, QueueStatusInterval = TimeSpan.FromMilliseconds(10) }.Problems().ToList();

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("Scheduler:MaxPending ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Scheduler:MaxPendingPerGroup ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Scheduler:QueueStatusInterval ", StringComparison.Ordinal));
        Assert.Null(new AdmissionOptions { MaxPendingPerGroup = 0 }.GroupReportThreshold);
        Assert.Equal(1, new AdmissionOptions { MaxPendingPerGroup = 1 }.GroupReportThreshold);
    }

    [Fact]
    public void The_leader_epoch_is_the_oldest_candidate_and_the_election_directory_itself_is_not_one()
    {
        StoreItem Item(string key, long created) => new(key, "{}"u8.ToArray(), created, created, 1, 0);

        Assert.Null(QueueStatusView.LeaderEpochAmong([]));
        Assert.Equal(12, QueueStatusView.LeaderEpochAmong(
            [Item(StoreLayout.Election, 1), Item($"{StoreLayout.Election}/c-b", 15), Item($"{StoreLayout.Election}/c-a", 12), Item($"{StoreLayout.Election}/c-x/below", 2)]));
    }

    [Fact]
    public async Task The_view_trusts_only_the_current_leaders_record()
    {
        var server = new InMemoryStoreServer();
        await using var store = server.Connect();
        await using var statusCache = new WatchCache(store, StoreLayout.QueueStatus);
        await using var electionCache = new WatchCache(store, StoreLayout.Election);
        await statusCache.StartAsync();
        await electionCache.StartAsync();
        var view = new QueueStatusView(statusCache, electionCache, NullLogger.Instance);
        Assert.Null(view.Current);

        // A record and no leader: nobody keeps these counts any more.
        var put = await store.CommitAsync(new Transaction().Create(StoreLayout.QueueStatus, Record(epoch: 1, pending: 5000)));
        await statusCache.WaitForRevisionAsync(put.Revision);
        Assert.Null(view.Current);

        // A leader whose epoch is not the record's: still nothing.
        var leader = await store.CommitAsync(new Transaction().Create($"{StoreLayout.Election}/c-1", "{}"u8.ToArray(), ephemeral: true));
        var epoch = leader.Items[0]!.CreateRevision;
        await electionCache.WaitForRevisionAsync(leader.Revision);
        Assert.Null(view.Current);

        // The leader publishes: now its counts are the view.
        put = await store.CommitAsync(new Transaction().Update(StoreLayout.QueueStatus, Record(epoch, pending: 5000)));
        await statusCache.WaitForRevisionAsync(put.Revision);
        Assert.Equal((epoch, 5000), (view.Current?.Epoch, view.Current?.Pending));

        // The leader goes: its record stops counting at once.
        var gone = await store.CommitAsync(new Transaction().Delete($"{StoreLayout.Election}/c-1"));
        await electionCache.WaitForRevisionAsync(gone.Revision);
        Assert.Null(view.Current);
    }

    [Fact]
    public async Task An_unreadable_record_refuses_nothing()
    {
        var server = new InMemoryStoreServer();
        await using var store = server.Connect();
        await using var statusCache = new WatchCache(store, StoreLayout.QueueStatus);
        await using var electionCache = new WatchCache(store, StoreLayout.Election);
        await statusCache.StartAsync();
        await electionCache.StartAsync();
        var leader = await store.CommitAsync(new Transaction().Create($"{StoreLayout.Election}/c-1", "{}"u8.ToArray(), ephemeral: true));
        var put = await store.CommitAsync(new Transaction().Create(StoreLayout.QueueStatus, "{\"pending\": \"lots\"}"u8.ToArray()));
        await electionCache.WaitForRevisionAsync(leader.Revision);
        await statusCache.WaitForRevisionAsync(put.Revision);

        var view = new QueueStatusView(statusCache, electionCache, NullLogger.Instance);

        Assert.Null(view.Current);
        Assert.Null(view.Current);
    }

    private static byte[] Record(long epoch, int pending) =>
        ContractJson.Serialize(new QueueStatusRecord { Epoch = epoch, Pending = pending, At = DateTimeOffset.UnixEpoch });

    private static QueueStatusRecord Status(int pending, params (string Group, int Count)[] groups) => new()
    {
        Epoch = 1,
        Pending = pending,
        Groups = groups.ToDictionary(g => g.Group, g => g.Count, StringComparer.Ordinal),
    };
}
