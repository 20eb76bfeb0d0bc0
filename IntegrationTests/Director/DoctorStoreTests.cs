using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Doctor;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>The doctor's store check on stores of two members, which the test starts: an even member count is a WARN
/// on both backends. In the ensembles collection: extra JVMs next to other tests made ensemble tests flaky.</summary>
[Collection(ControlPlane.IntegrationTests.ZooKeeper.ZooKeeperEnsembleCollection.Name)]
public sealed class DoctorStoreTests
{
    [Theory]
    [InlineData("zookeeper")]
    [InlineData("etcd")]
    public async Task Doctor_warns_about_an_even_number_of_store_members(string backend)
    {
        await using ServerCluster cluster = backend == "etcd" ? await EtcdCluster.StartAsync(members: 2) : await ZooKeeperEnsemble.StartAsync(members: 2);
        var endpoints = cluster is EtcdCluster etcd ? etcd.Endpoints : ((ZooKeeperEnsemble)cluster).ConnectionString;
        await using var director = new DirectorHost(backend, endpoints, "t/" + TestNames.Unique("doctor"));

        DoctorReport? report = null;
        await Eventually.UntilAsync(async () =>
        {
            using var response = await director.Client.GetAsync("/v1/doctor");
            report = response.StatusCode == HttpStatusCode.OK ? ContractJson.Deserialize<DoctorReport>(await response.Content.ReadAsByteArrayAsync()) : null;
            return report is not null;
        }, TimeSpan.FromSeconds(30));

        var store = Assert.Single(report!.Checks, c => c.Name == "store");
        Assert.Equal(CheckStatus.Warn, store.Status);
        Assert.Contains("2 members: an even count", store.Summary, StringComparison.Ordinal);
        Assert.Contains("2 of 2 members answer", store.Summary, StringComparison.Ordinal);
        Assert.Equal(2, store.Details!.Count(d => d.Contains("leader", StringComparison.Ordinal) || d.Contains("follower", StringComparison.Ordinal)));
    }
}
