using System.Net;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.IntegrationTests.Chaos;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.EndToEnd;

/// <summary>
/// A store restored from a backup under a running director (docs/operations.md, "A restored backup"): a backup is
/// taken, jobs are submitted (the revision moves on), and the store is restored from the backup while the director
/// and a store client of the test keep running. Both notice that the store is behind a revision they have seen and
/// stop using it: the client's calls fail with <see cref="StoreRolledBackException"/>; the director logs it, answers
/// 503 saying so, and stops leading. One member per store (a standalone ZooKeeper reissues zxids from the backup's,
/// as etcd reissues revisions). One subclass per backend: etcd restores with <c>etcdctl snapshot save</c> and
/// <c>snapshot restore</c>, ZooKeeper by putting a copy of the data directory back.
/// </summary>
public abstract class StoreRollbackTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private ServerCluster? _servers;

    /// <summary>The backend.</summary>
    protected abstract E2eBackend Backend { get; }

    private ControlPlaneApps Apps { get; } = new("e2e-rollback");

    /// <inheritdoc />
    public async Task InitializeAsync() => _servers = await Backend.StartAsync(1);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await Apps.DisposeAsync();
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }

    /// <summary>Takes a backup of the running store; returns what restores it.</summary>
    protected abstract Task<Func<Task>> BackUpAsync(ServerCluster servers);

    [Fact]
    public async Task A_store_restored_from_a_backup_under_a_running_director_is_detected_and_no_longer_used()
    {
        var servers = _servers!;
        var target = Backend.Target(servers, TestNames.Unique("rollback"));
        var director = await Apps.StartDirectorAsync(target, "director-1");
        await Eventually.UntilAsync(async () => await director.Client.LeaderAsync() is not null, Deadline, () => director.Process.LogTail(15));
        await using var store = await new StoreOptions { Backend = Backend.Name, Endpoints = target.Endpoints, Root = target.Root, SessionTimeout = E2eBackend.SessionTimeout }
            .ConnectAsync();

        var restore = await BackUpAsync(servers);
        var args = JsonDocument.Parse("""{"seconds":0.1}""").RootElement;
        for (var i = 0; i < 5; i++)
        {
            await director.Client.SubmitAsync(new JobSpec { Executor = "sleep", Args = args });
        }

        // The test's client has seen the newest revision, as the director has.
        Assert.NotNull(await store.GetAsync(StoreLayout.Schema));
        var seen = store.SeenRevision;

        await restore();
        output.WriteLine($"restored the backup; the client had seen revision {seen}");

        // The client: the first answer from the restored store is refused, and so is everything after it.
        var refused = await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    // Bounded per call: on ZooKeeper a read waits for a session the servers refuse.
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await store.GetAsync(StoreLayout.Schema, timeout.Token);
                    return null;
                }
                catch (StoreRolledBackException e)
                {
                    return e;
                }
            },
            e => e is not null,
            Deadline);
        output.WriteLine(refused!.Message);
        await Assert.ThrowsAsync<StoreRolledBackException>(() => store.GetAsync(StoreLayout.Schema));
        Assert.NotEqual(SessionState.Connected, store.Session.State);

        // The director: 503 that says why, a critical log line, and it stops leading.
        var problem = "nothing yet";
        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await director.Client.Http.GetAsync(new Uri("/v1/jobs?limit=1", UriKind.Relative));
                problem = $"{(int)response.StatusCode} Retry-After {response.Headers.RetryAfter}: {await response.Content.ReadAsStringAsync()}";
                return response.StatusCode == HttpStatusCode.ServiceUnavailable && problem.Contains("back in time", StringComparison.Ordinal);
            },
            Deadline,
            () => problem + "\n" + director.Process.LogTail(20));
        Assert.Contains("Retry-After 1", problem, StringComparison.Ordinal);
        await Eventually.UntilAsync(
            () => director.Process.LogContains("went back in time") && director.Process.LogContains("Stopped scheduling"),
            Deadline,
            () => director.Process.LogTail(30));
        Assert.False(director.Process.HasExited);
    }
}

/// <summary>etcd: <c>etcdctl snapshot save</c>, then <c>etcdctl snapshot restore</c> into each member's data directory.</summary>
[Collection(EtcdOutageCollection.Name)]
public sealed class EtcdStoreRollbackTests(ITestOutputHelper output) : StoreRollbackTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.Etcd;

    /// <inheritdoc />
    protected override async Task<Func<Task>> BackUpAsync(ServerCluster servers)
    {
        var etcd = (EtcdCluster)servers;
        var snapshot = Path.Combine(etcd.RootDirectory, "backup.db");
        await etcd.SaveSnapshotAsync(snapshot);
        return () => etcd.RestoreSnapshotAsync(snapshot);
    }
}

/// <summary>ZooKeeper: a copy of the running standalone server's data directory, put back with the server stopped
/// (docs/operations.md, section 5).</summary>
[Collection(ZooKeeperOutageCollection.Name)]
public sealed class ZooKeeperStoreRollbackTests(ITestOutputHelper output) : StoreRollbackTests(output)
{
    /// <inheritdoc />
    protected override E2eBackend Backend => E2eBackend.ZooKeeper;

    /// <inheritdoc />
    protected override Task<Func<Task>> BackUpAsync(ServerCluster servers)
    {
        var data = servers.Members[0].DataDirectory;
        var backup = Path.Combine(servers.RootDirectory, "backup");
        Copy(data, backup);
        return Task.FromResult<Func<Task>>(async () =>
        {
            await servers.StopAsync(0);
            Directory.Delete(data, recursive: true);
            Copy(backup, data);
            await servers.StartMemberAsync(0);
        });
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // The server writes while it runs: share the file, as a copy of a live data directory does.
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = File.Create(target);
            source.CopyTo(copy);
        }
    }
}
