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
/// An etcd restored from a backup under a running director (docs/operations.md, "A restored backup"): a snapshot is
/// saved, jobs are submitted (the revision moves on), and the cluster is restored from the snapshot with
/// <c>etcdctl snapshot restore</c> while the director and a store client of the test keep running. Both notice that the
/// store answers below a revision they have seen and stop using it: the client's calls fail with
/// <see cref="StoreRolledBackException"/> and its session is lost; the director logs it, answers 503 saying so, and
/// stops leading.
/// </summary>
[Collection(EtcdOutageCollection.Name)]
public sealed class EtcdStoreRollbackTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private EtcdCluster? _servers;

    private ControlPlaneApps Apps { get; } = new("e2e-rollback");

    /// <inheritdoc />
    public async Task InitializeAsync() => _servers = await EtcdCluster.StartAsync(1);

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await Apps.DisposeAsync();
        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_store_restored_from_a_backup_under_a_running_director_is_detected_and_no_longer_used()
    {
        var servers = _servers!;
        var target = E2eBackend.Etcd.Target(servers, TestNames.Unique("rollback"));
        var director = await Apps.StartDirectorAsync(target, "director-1");
        await Eventually.UntilAsync(async () => await director.Client.LeaderAsync() is not null, Deadline, () => director.Process.LogTail(15));
        await using var store = await new StoreOptions { Backend = "etcd", Endpoints = target.Endpoints, Root = target.Root, SessionTimeout = TimeSpan.FromSeconds(10) }
            .ConnectAsync();

        var snapshot = Path.Combine(servers.RootDirectory, "backup.db");
        await servers.SaveSnapshotAsync(snapshot);
        var args = JsonDocument.Parse("""{"seconds":0.1}""").RootElement;
        for (var i = 0; i < 5; i++)
        {
            await director.Client.SubmitAsync(new JobSpec { Executor = "sleep", Args = args });
        }

        // The test's client has seen the newest revision, as the director has.
        Assert.NotNull(await store.GetAsync(StoreLayout.Schema));
        var seen = store.SeenRevision;

        await servers.RestoreSnapshotAsync(snapshot);
        output.WriteLine($"restored the snapshot; the client had seen revision {seen}");

        // The client: the first answer from the restored store is refused, and so is everything after it.
        var refused = await Eventually.UntilAsync(
            async () =>
            {
                try
                {
                    await store.GetAsync(StoreLayout.Schema);
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
        Assert.Equal(SessionState.Lost, store.Session.State);

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
            () => director.Process.LogContains("etcd went back in time") && director.Process.LogContains("Stopped scheduling"),
            Deadline,
            () => director.Process.LogTail(30));
        Assert.False(director.Process.HasExited);
    }
}
