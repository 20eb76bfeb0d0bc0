using System.Collections.Concurrent;
using ControlPlane.Etcd;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Etcd;

/// <summary>Member failures on clusters of our own (the shared fixture must never be killed).</summary>
public sealed class EtcdFailoverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killing_the_member_a_watch_is_connected_to_resumes_it_elsewhere_without_losing_or_repeating_events()
    {
        await using var cluster = await EtcdCluster.StartAsync(members: 3);
        await using var watcher = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        await using var writer = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        var prefix = TestNames.Unique("resume") + "/";
        await using var reader = new WatchReader(await watcher.WatchPrefixAsync(prefix));

        // The writer counts what the cluster acknowledged; unacknowledged writes (during the election) may or
        // may not have been applied, so the store itself is the final truth for what the watcher must see.
        var acknowledged = new ConcurrentBag<long>();
        var failedWrites = 0;
        using var stopWriter = new CancellationTokenSource();
        var writing = Task.Run(async () =>
        {
            for (var i = 0; !stopWriter.IsCancellationRequested && i < 100_000; i++)
            {
                try
                {
                    acknowledged.Add((await writer.PutAsync(prefix + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture), "v")).Header.Revision);
                }
                catch (EtcdException)
                {
                    Interlocked.Increment(ref failedWrites);
                }
            }
        });

        await Eventually.UntilAsync(() => reader.Events.Count >= 20, Deadline, reader.Describe);
        var servedBy = reader.Batches[^1].MemberId;
        var victim = await MemberIndexAsync(watcher, cluster, servedBy);
        await cluster.KillAsync(victim);
        var atKill = acknowledged.Count;

        await Eventually.UntilAsync(() => acknowledged.Count >= atKill + 50, Deadline,
            () => $"{acknowledged.Count - atKill} writes acknowledged since the kill, {failedWrites} failed");
        await stopWriter.CancelAsync();
        await writing;

        var truth = await writer.RangeAsync(EtcdOp.GetPrefix(prefix));
        var expected = truth.Kvs.Select(kv => kv.ModRevision).Order().ToList();
        await Eventually.UntilAsync(() => reader.Events.Count >= expected.Count, Deadline,
            () => $"expected {expected.Count} events; {reader.Describe()}");

        var seen = reader.Events.Select(e => e.Kv.ModRevision).ToList();
        Assert.Null(reader.Error);
        Assert.Equal(expected, seen); // same revisions, in order, none twice
        Assert.Subset(seen.ToHashSet(), acknowledged.ToHashSet());
        Assert.Contains(reader.Batches, b => b.MemberId != servedBy);
    }

    [Fact]
    public async Task A_kept_alive_lease_survives_the_loss_of_the_member_its_keepalives_go_to()
    {
        await using var cluster = await EtcdCluster.StartAsync(members: 3);
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        // 5 s: long enough to ride out the election that follows if the killed member led (1 s timeout here).
        var lease = await client.GrantLeaseAsync(TimeSpan.FromSeconds(5));
        var key = TestNames.Unique("lease") + "/owned";
        await client.PutAsync(EtcdOp.Put(key, "x", lease.Id));
        var status = await client.StatusAsync(client.CurrentEndpoint.Authority);
        var victim = await MemberIndexAsync(client, cluster, status.Header.MemberId);

        await cluster.KillAsync(victim);
        var killedAt = DateTimeOffset.UtcNow;

        // Only a renewal sent a second after the kill, through a surviving member, moves the deadline this far.
        await Eventually.UntilAsync(() => lease.Deadline > killedAt + lease.Ttl + TimeSpan.FromSeconds(1) || lease.State != EtcdLeaseState.Alive,
            Deadline, () => $"state {lease.State}, deadline {lease.Deadline:O}");
        Assert.True(lease.State == EtcdLeaseState.Alive, $"lease {lease.State}: {(lease.Lost.IsCompleted ? await lease.Lost : "")}");
        await Eventually.UntilAsync(async () => (await client.LeaseTimeToLiveAsync(lease.Id)).TTL > 0, Deadline);
        Assert.NotNull(await client.GetAsync(key));
    }

    [Fact]
    public async Task Keepalive_loss_is_reported_when_the_whole_cluster_is_down_longer_than_the_ttl()
    {
        await using var cluster = await EtcdCluster.StartAsync(members: 1);
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        var lease = await client.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await Eventually.UntilAsync(() => lease.Deadline > DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1), Deadline,
            () => $"deadline {lease.Deadline:O}");

        await cluster.KillAsync(0);

        var reason = await lease.Lost.WaitAsync(Deadline);
        Assert.Equal(EtcdLeaseState.Lost, lease.State);
        Assert.True(lease.LostToken.IsCancellationRequested);
        Assert.Contains("no keepalive confirmed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_survives_a_restart_of_the_only_member_and_continues_after_the_last_event()
    {
        await using var cluster = await EtcdCluster.StartAsync(members: 1);
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        var prefix = TestNames.Unique("restart") + "/";
        await using var reader = new WatchReader(await client.WatchPrefixAsync(prefix));
        await client.PutAsync(prefix + "before", "1");
        await Eventually.UntilAsync(() => reader.Events.Count == 1, Deadline, reader.Describe);

        await cluster.RestartAsync(0);
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                await client.PutAsync(prefix + "after", "2");
                return true;
            }
            catch (EtcdException)
            {
                return false; // read before retrying: a put that timed out may have been applied
            }
        }, Deadline);

        await Eventually.UntilAsync(() => reader.Events.Any(e => e.Kv.Key.ToStringUtf8().EndsWith("after", StringComparison.Ordinal)),
            Deadline, reader.Describe);
        Assert.Null(reader.Error);
        Assert.Single(reader.Events, e => e.Kv.Key.ToStringUtf8().EndsWith("before", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_watch_on_a_member_that_lost_its_leader_is_not_left_hanging_and_catches_up_after_recovery()
    {
        await using var cluster = await EtcdCluster.StartAsync(members: 3);
        // Only member 1 as endpoint: the watch must stay there and learn of the lost leader via "hasleader".
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Members[0].ClientAddress });
        await using var writer = new EtcdClient(new EtcdClientOptions { Endpoints = cluster.Endpoints });
        var prefix = TestNames.Unique("leaderless") + "/";
        await using var reader = new WatchReader(await client.WatchPrefixAsync(prefix));
        await writer.PutAsync(prefix + "before", "1");
        await Eventually.UntilAsync(() => reader.Events.Count == 1, Deadline, reader.Describe);
        using var resumes = new ResumeCounter(cluster.Members[0].ClientAddress);

        await cluster.KillAsync(1);
        await cluster.KillAsync(2);

        // etcd cancels "hasleader" streams once the member has been leaderless for a few election timeouts.
        await Eventually.UntilAsync(() => resumes.Count > 0, Deadline, () => "the watch stream was never broken");

        await cluster.StartMemberAsync(1);
        await cluster.StartMemberAsync(2);
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                await writer.PutAsync(prefix + "after", "2");
                return true;
            }
            catch (EtcdException)
            {
                return false;
            }
        }, Deadline);

        await Eventually.UntilAsync(() => reader.Events.Any(e => e.Kv.Key.ToStringUtf8().EndsWith("after", StringComparison.Ordinal)),
            Deadline, reader.Describe);
        Assert.Null(reader.Error);
    }

    private static async Task<int> MemberIndexAsync(EtcdClient client, EtcdCluster cluster, ulong memberId)
    {
        var members = await client.MemberListAsync();
        var member = members.Members.Single(m => m.ID == memberId);
        var port = new Uri(member.ClientURLs[0]).Port;
        return cluster.Members.Single(m => m.ClientPort == port).Index;
    }

    /// <summary>Counts watch stream resumptions through the client's metric, for streams that broke on one endpoint.</summary>
    private sealed class ResumeCounter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _count;

        public ResumeCounter(string endpoint)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "ControlPlane.Etcd" && instrument.Name == "controlplane.etcd.watch.resumes")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "server.address" && (string?)tag.Value == endpoint)
                    {
                        Interlocked.Add(ref _count, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
