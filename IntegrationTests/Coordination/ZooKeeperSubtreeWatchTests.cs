using System.Diagnostics;
using System.Text;
using ControlPlane.Coordination;
using ControlPlane.Coordination.ZooKeeper;
using ControlPlane.TestSupport;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>
/// The ZooKeeper subtree watch at the sizes the control plane reaches: a listing of tens of thousands of keys keeps at
/// most its window of requests in flight.
/// </summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperSubtreeWatchTests(ZooKeeperFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _root = "t/" + TestNames.Unique("zk-subtree");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_subtree_of_25000_keys_is_listed_completely_with_at_most_the_window_of_requests_in_flight()
    {
        const int Keys = 25_000;
        const int Window = 128;
        var writer = await ConnectAsync(fixture.ConnectionString);
        var clock = Stopwatch.StartNew();
        var written = await WriteAsync(writer, Enumerable.Range(0, Keys).Select(i => Create(Key("jobs", i), $"v{i}")));
        output.WriteLine($"wrote {Keys} keys in {clock.ElapsedMilliseconds} ms");
        var counter = new ZooKeeperInFlightCounter();
        var proxy = TcpProxy.Start(fixture.ConnectionString);
        proxy.Observer = counter.Connection;
        _owned.Add(proxy);
        var watcher = await ConnectAsync(proxy.Address, o => o.SubtreeReadWindow = Window);
        counter.Reset();

        clock.Restart();
        using var stop = new CancellationTokenSource(Deadline);
        await using var updates = watcher.WatchAsync("jobs", 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        output.WriteLine($"listed in {clock.ElapsedMilliseconds} ms with {counter.Requests} requests, at most {counter.Max} in flight");

        var listing = Assert.IsType<WatchResync>(updates.Current);
        Assert.True(listing.Revision >= written, $"listing at {listing.Revision}, written at {written}");
        Assert.Equal(Enumerable.Range(0, Keys).Select(i => Key("jobs", i)).Order(StringComparer.Ordinal), listing.Items.Select(i => i.Key));
        Assert.All(listing.Items, item => Assert.Equal("v" + item.Key[(item.Key.LastIndexOf('k') + 1)..], Encoding.UTF8.GetString(item.Value.Span)));
        Assert.InRange(counter.Max, 2, Window);
        // One getData per node and a getChildren only for the 65 with children (jobs and its 64 buckets), plus the
        // watch's own few (the root's create, addWatch, sync).
        Assert.InRange(counter.Requests, Keys + 65 + 65, Keys + 65 + 65 + 10);
    }

    private static string Key(string prefix, int i) => $"{prefix}/{i % 64:x2}/k{i}";

    private static Operation Create(string key, string value) => new(OperationKind.Create, key, Encoding.UTF8.GetBytes(value));

    /// <summary>Commits <paramref name="operations"/> 64 to a transaction, 8 transactions in flight; returns the last revision.</summary>
    private static async Task<long> WriteAsync(ICoordinationStore store, IEnumerable<Operation> operations)
    {
        var batches = operations.Chunk(Transaction.MaxOperations).ToList();
        long last = 0;
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
        {
            var tx = new Transaction();
            foreach (var op in batch)
            {
                _ = op.Kind switch
                {
                    OperationKind.Create => tx.Create(op.Key, op.Value),
                    OperationKind.Update => tx.Update(op.Key, op.Value),
                    _ => tx.Delete(op.Key),
                };
            }

            var result = await store.CommitAsync(tx, ct);
            Assert.True(result.Succeeded, $"a batch failed at operation {result.FailedIndex}");
            InterlockedMax(ref last, result.Revision);
        });
        return last;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen)
        {
            var prior = Interlocked.CompareExchange(ref target, value, seen);
            if (prior == seen)
            {
                return;
            }

            seen = prior;
        }
    }

    private ZooKeeperStoreOptions Options(string connectionString) => new()
    {
        ConnectionString = connectionString,
        Root = _root,
        SessionTimeout = TimeSpan.FromSeconds(10),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    private async Task<ICoordinationStore> ConnectAsync(string connectionString, Action<ZooKeeperStoreOptions>? configure = null)
    {
        var options = Options(connectionString);
        configure?.Invoke(options);
        var store = await ZooKeeperCoordinationStore.ConnectAsync(options);
        _owned.Add(store);
        return store;
    }
}
