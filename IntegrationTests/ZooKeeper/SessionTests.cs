using ControlPlane.TestSupport;
using ControlPlane.ZooKeeper;
using static ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperTesting;

namespace ControlPlane.IntegrationTests.ZooKeeper;

/// <summary>Connection loss, reconnection and expiry, driven through a TCP proxy in front of the shared server.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class SessionTests(ZooKeeperFixture fixture)
{
    [Fact]
    public async Task A_new_session_is_refused_by_a_server_behind_the_zxid_the_caller_has_seen()
    {
        await using var writer = await ConnectAsync(fixture.ConnectionString);
        await writer.CreateAsync("/" + TestNames.Unique(), default);
        var seen = writer.LastZxid;

        // Caught up: accepted. Ahead of the server (as a lagging follower would be): refused, never served stale.
        await using var current = await ConnectAsync(fixture.ConnectionString, o => o.LastZxidSeen = seen);
        Assert.True(current.LastZxid >= seen);
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(fixture.ConnectionString, o =>
        {
            o.LastZxidSeen = seen + 1_000_000;
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
        }));
    }

    [Fact]
    public async Task Pending_requests_fail_with_connection_loss_when_the_connection_breaks_and_the_session_resumes()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var zk = await ConnectAsync(proxy.Address + chroot);
        await using var states = new StateRecorder(zk);
        var session = zk.SessionId;
        await zk.CreateAsync("/n", default);
        proxy.Delay = TimeSpan.FromMilliseconds(300); // keep replies in flight long enough to cut them

        var pending = Enumerable.Range(0, 50).Select(_ => zk.GetDataAsync("/n")).ToArray();
        proxy.CutAll();

        foreach (var request in pending)
            await Assert.ThrowsAsync<ConnectionLossException>(() => Eventually.WithinAsync(request, Deadline, "failure of a pending request"));
        proxy.Delay = TimeSpan.Zero;
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Connected, Deadline, () => states.ToString());
        Assert.Equal(session, zk.SessionId);
        Assert.NotNull(await zk.ExistsAsync("/n"));
        Assert.Contains(states.Changes, c => c.State == ConnectionState.Suspended && c.Reason is ConnectionLossException);
        Assert.Contains(states.Changes, c => c.IsReconnect);
    }

    [Fact]
    public async Task Under_repeated_connection_cuts_every_request_ends_in_success_or_connection_loss_never_hangs()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        var logs = new CapturingLoggerFactory();
        await using var zk = await ConnectAsync(proxy.Address + chroot, loggerFactory: logs);
        await zk.CreateAsync("/n", default);
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        var workers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Many in flight at once, so cuts land between enqueue, send and reply.
                var batch = Enumerable.Range(0, 25).Select(_ => zk.SetDataAsync("/n", "x"u8.ToArray())).ToArray();
                var lost = false;
                foreach (var request in batch)
                {
                    try
                    {
                        await Eventually.WithinAsync(request, Deadline, "a request during cuts");
                        outcomes.AddOrUpdate("ok", 1, (_, n) => n + 1);
                    }
                    catch (ConnectionLossException)
                    {
                        outcomes.AddOrUpdate("loss", 1, (_, n) => n + 1);
                        lost = true;
                    }
                    catch (SessionExpiredException)
                    {
                        // Legitimate when cuts and a starved machine keep every byte away for a whole session
                        // timeout (4 s at most with the fixture's tickTime): still an end, not a hang.
                        outcomes.AddOrUpdate("expired", 1, (_, n) => n + 1);
                    }
                }

                // Like any sane caller: back off after a loss. Requests fail synchronously while suspended,
                // so a tight retry loop would starve the thread pool, reconnect included.
                if (lost)
                    await Task.Delay(20);
            }
        })).ToArray();
        var cutter = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(200);
                proxy.CutAll();
            }
        });

        await Eventually.WithinAsync(Task.WhenAll(workers.Append(cutter)), Deadline, "workers finishing");
        logs.Messages.Enqueue($"cuts stopped @{DateTime.UtcNow:HH:mm:ss.fff}");
        Assert.True(outcomes.GetValueOrDefault("ok") > 0, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("loss") > 0, string.Join(", ", outcomes));
        if (zk.State == ConnectionState.Expired)
        {
            // Then the expiry must have been a real silence longer than the timeout, reported as such.
            Assert.Contains(logs.Messages, m => m.StartsWith("SessionExpired", StringComparison.Ordinal));
            return;
        }

        // The last cut may still be in flight: the session must come back and serve again.
        await Eventually.UntilAsync(async () => await zk.ExistsAsync("/n") is not null, Deadline,
            () => $"state {zk.State}; log:\n{string.Join("\n", logs.Messages.Where(m => !m.StartsWith("StateChanged", StringComparison.Ordinal)))}");
    }

    [Fact]
    public async Task Requests_fail_fast_with_connection_loss_while_suspended()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var zk = await ConnectAsync(proxy.Address + chroot);
        proxy.RejectNew = true;
        proxy.CutAll();
        await Eventually.UntilAsync(() => zk.State == ConnectionState.Suspended, Deadline, () => $"state {zk.State}");

        await Assert.ThrowsAsync<ConnectionLossException>(() => zk.ExistsAsync("/"));
        proxy.RejectNew = false;
        await zk.WaitUntilConnectedAsync().WaitAsync(Deadline);
        Assert.NotNull(await zk.ExistsAsync("/"));
    }

    [Fact]
    public async Task A_request_without_reply_times_out_while_the_connection_stays()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var zk = await ConnectAsync(proxy.Address + chroot, o => o.RequestTimeout = TimeSpan.FromMilliseconds(300));
        proxy.Pause();
        var error = await Assert.ThrowsAsync<RequestTimeoutException>(() => Eventually.WithinAsync(zk.GetDataAsync("/"), Deadline, "timeout"));
        Assert.Equal("/", error.Path);
        proxy.Resume();
        Assert.NotNull(await zk.ExistsAsync("/"));
    }

    [Fact]
    public async Task Server_side_expiry_is_reported_once_ephemerals_are_gone_and_a_new_session_works()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var observer = await ConnectAsync(fixture.ConnectionString + chroot);
        var zk = await ConnectAsync(proxy.Address + chroot, o =>
        {
            o.SessionTimeout = TimeSpan.FromSeconds(1);
            o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
            o.ExpireLocallyWhenDisconnected = false; // only the server may declare it here
        });
        await using var states = new StateRecorder(zk);
        await zk.CreateAsync("/eph", default, CreateMode.Ephemeral);
        var watch = await zk.GetDataAndWatchAsync("/eph");

        proxy.Pause();
        // The server expires the session once it has not heard from it for the timeout.
        await Eventually.UntilAsync(async () => await observer.ExistsAsync("/eph") is null, Deadline);
        Assert.NotEqual(ConnectionState.Expired, zk.State);
        proxy.Resume();

        await Eventually.UntilAsync(() => zk.State == ConnectionState.Expired, Deadline, () => states.ToString());
        await Assert.ThrowsAsync<SessionExpiredException>(() => zk.ExistsAsync("/"));
        await Assert.ThrowsAsync<SessionExpiredException>(() => watch.Changed);
        await zk.CloseAsync();
        await Eventually.WithinAsync(states.Completed, Deadline, "the end of the state stream");
        Assert.Equal(1, states.Count(ConnectionState.Expired));
        Assert.Equal(ConnectionState.Expired, zk.State);

        await using var fresh = await ConnectAsync(proxy.Address + chroot);
        Assert.NotEqual(zk.SessionId, fresh.SessionId);
        await fresh.CreateAsync("/eph", default, CreateMode.Ephemeral);
    }

    [Fact]
    public async Task A_client_cut_off_longer_than_the_session_timeout_expires_locally_once()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var zk = await ConnectAsync(proxy.Address + chroot, o =>
        {
            o.SessionTimeout = TimeSpan.FromSeconds(1);
            o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
        });
        await using var states = new StateRecorder(zk);
        var persistent = await zk.AddWatchAsync("/", AddWatchMode.PersistentRecursive);

        proxy.Pause();

        await Eventually.UntilAsync(() => zk.State == ConnectionState.Expired, Deadline, () => states.ToString());
        await Assert.ThrowsAsync<SessionExpiredException>(() => persistent.Events.Completion);
        proxy.Resume();
        await Assert.ThrowsAsync<SessionExpiredException>(() => zk.ExistsAsync("/"));
        await Eventually.WithinAsync(states.Completed, Deadline, "the end of the state stream");
        Assert.Equal(1, states.Count(ConnectionState.Expired));
        Assert.Equal(
            [ConnectionState.Connected, ConnectionState.Suspended, ConnectionState.Expired],
            states.Changes.Select(c => c.State).Distinct());
    }

    [Fact]
    public async Task Provable_session_lifetime_is_positive_while_connected_and_shrinks_when_cut_off()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var zk = await ConnectAsync(proxy.Address + chroot, o => o.SessionTimeout = TimeSpan.FromSeconds(3));
        await zk.ExistsAsync("/");
        var timeout = zk.NegotiatedSessionTimeout;
        Assert.InRange(zk.ProvablyAliveFor, TimeSpan.FromTicks(1), timeout);

        proxy.Pause();
        await Eventually.UntilAsync(() => zk.State != ConnectionState.Connected, Deadline, () => $"state {zk.State}");

        // Suspended comes after 2/3 of the timeout without any byte: at most 1/3 can still be proven.
        Assert.True(zk.ProvablyAliveFor <= timeout / 3, $"{zk.ProvablyAliveFor} of {timeout}");
        await Eventually.UntilAsync(() => zk.ProvablyAliveFor <= TimeSpan.Zero, Deadline, () => $"{zk.ProvablyAliveFor}");
        proxy.Resume();
    }

    [Fact]
    public async Task Protected_create_adopts_the_node_whose_reply_was_lost()
    {
        var (proxy, chroot) = await ProxiedAsync();
        await using var _ = proxy;
        await using var observer = await ConnectAsync(fixture.ConnectionString + chroot);
        await observer.CreateAsync("/locks", default);
        var logs = new CapturingLoggerFactory();
        await using var zk = await ConnectAsync(proxy.Address + chroot, loggerFactory: logs);

        // Slow the proxy so the reply is still on its way when the node already exists, then cut it.
        proxy.Delay = TimeSpan.FromMilliseconds(400);
        var create = zk.CreateProtectedEphemeralSequentialAsync("/locks/lock-", "me"u8.ToArray());
        await Eventually.UntilAsync(async () => (await observer.GetChildrenAsync("/locks")).Children.Count == 1, Deadline);
        proxy.CutAll();
        proxy.Delay = TimeSpan.Zero;

        var result = await Eventually.WithinAsync(create, Deadline, "protected create");

        var child = Assert.Single((await observer.GetChildrenAsync("/locks")).Children);
        Assert.Equal("/locks/" + child, result.Path);
        Assert.Matches("^_c_[0-9a-f]{32}-lock-[0-9]{10}$", child);
        Assert.Equal(zk.SessionId, result.Stat.EphemeralOwner);
        Assert.Contains(logs.Messages, m => m.StartsWith("ProtectedCreateAdopted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_state_stream_starts_with_the_current_state_and_ends_on_close()
    {
        var zk = await ConnectAsync(fixture.ConnectionString);
        var seen = new List<ConnectionState>();
        var reader = Task.Run(async () =>
        {
            await foreach (var change in zk.WatchStateAsync())
                seen.Add(change.State);
        });
        await Eventually.UntilAsync(() => seen.Count > 0, Deadline);
        await zk.CloseAsync();
        await Eventually.WithinAsync(reader, Deadline, "end of the state stream");
        Assert.Equal([ConnectionState.Connected, ConnectionState.Closed], seen);
    }

    private async Task<(TcpProxy Proxy, string Chroot)> ProxiedAsync()
    {
        var servers = await NewChrootAsync(fixture.ConnectionString);
        return (TcpProxy.Start(fixture.Server.Members[0].ClientAddress), servers[servers.IndexOf('/', StringComparison.Ordinal)..]);
    }
}
