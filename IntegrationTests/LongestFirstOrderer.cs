using Xunit.Abstractions;

[assembly: TestCollectionOrderer("ControlPlane.IntegrationTests.LongestFirstOrderer", "ControlPlane.IntegrationTests")]

namespace ControlPlane.IntegrationTests;

/// <summary>
/// Starts the longest collections first. xunit runs at most <c>maxParallelThreads</c> collections at once and starts
/// them in this order, so a long collection started last would run alone at the end while the other threads idle:
/// longest first keeps every thread busy until close to the end (docs/testing.md, "Run time"). Collections not listed
/// follow in xunit's default order.
/// </summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    // Longest first, by their total test time in a full run (docs/testing.md, "Run time", says how to measure it).
    private static readonly string[] Longest =
    [
        ZooKeeperCollection.Name,
        EtcdCollection.Name,
        Chaos.ZooKeeperOutageCollection.Name,
        EndToEnd.FailureCollection.ZooKeeper,
        EndToEnd.FailureCollection.Etcd,
        Chaos.ChaosCollection.Name,
        Chaos.EtcdOutageCollection.Name,
        Quickstart.QuickstartTests.Collection,
    ];

    /// <inheritdoc />
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .Select((collection, index) => (collection, index, rank: Array.IndexOf(Longest, collection.DisplayName)))
            .OrderBy(c => c.rank < 0 ? int.MaxValue : c.rank)
            .ThenBy(c => c.index)
            .Select(c => c.collection);
}
