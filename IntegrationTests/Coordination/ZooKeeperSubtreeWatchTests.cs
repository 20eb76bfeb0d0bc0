using System.Diagnostics;
using System.Text;
using ControlPlane.Coordination;
using ControlPlane.Coordination.ZooKeeper;
using ControlPlane.IntegrationTests.ZooKeeper;
using ControlPlane.TestSupport;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Coordination;

/// <summary>
/// The ZooKeeper subtree watch at the sizes the control plane reaches: a listing of tens of thousands of keys keeps at
/// most its window of requests in flight, and a burst that overflows the watch ends with the watch showing exactly
/// what the store holds.
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

    [Theory]
    [InlineData("backlog over its limit", 16_384, 1_000)]
    [InlineData("client queue overflowed", 1, 250_000)]
    public async Task A_burst_that_overflows_the_watch_ends_with_the_watch_showing_exactly_the_store(string overflow, int eventCapacity, int backlogLimit)
    {
        // 5,000 keys, then 12,500 changes: six times the backlog limit of the first case while the consumer reads nothing,
        // so both overflow for sure; twice this proved no more and cost a minute and a half per case on two busy cores.
        const int Initial = 5_000;
        const int Half = Initial / 2;
        const int Quarter = Initial / 4;
        var writer = await ConnectAsync(fixture.ConnectionString);
        await WriteAsync(writer, Enumerable.Range(0, Initial).Select(i => Create(Key("burst", i), "0")));
        var logs = new CapturingLoggerFactory();
        var watcher = await ConnectAsync(fixture.ConnectionString, o => (o.WatchEventCapacity, o.WatchBacklogLimit) = (eventCapacity, backlogLimit), logs);
        // The whole test's budget: writing 15,000 changes takes from 5 s to half a minute, depending on the machine's load.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var consumer = new Consumer(watcher.WatchAsync("burst", 0, stop.Token).GetAsyncEnumerator(stop.Token));
        await consumer.NextAsync();
        Assert.Equal(Initial, consumer.State.Count);
        var clock = Stopwatch.StartNew();

        // While the consumer reads nothing: 2,500 updates, 1,250 deletes, 2,500 creates.
        await WriteAsync(writer, Enumerable.Range(0, Half).Select(i => Update(Key("burst", i), "1"))
            .Concat(Enumerable.Range(Half, Quarter).Select(i => Delete(Key("burst", i))))
            .Concat(Enumerable.Range(Initial, Half).Select(i => Create(Key("burst", i), "1"))));
        output.WriteLine($"{overflow}: first half written in {clock.ElapsedMilliseconds} ms");
        // Then the consumer follows while as much again is written: the watch catches up (or starts over) under a burst.
        var following = consumer.FollowAsync(stop.Token);
        var last = await WriteAsync(writer, Enumerable.Range(0, Quarter).Concat(Enumerable.Range(Initial, Quarter)).Select(i => Update(Key("burst", i), "2"))
            .Concat(Enumerable.Range(Half + Quarter, Quarter).Select(i => Delete(Key("burst", i))))
            .Concat(Enumerable.Range(Initial + Half, Half).Select(i => Create(Key("burst", i), "2"))));
        output.WriteLine($"{overflow}: second half written in {clock.ElapsedMilliseconds} ms, at revision {last}");

        // Once the watch proves it has every change up to the last write, it holds exactly what the store does.
        await Eventually.UntilAsync(
            async () =>
            {
                await watcher.RequestWatchProgressAsync();
                return consumer.Revision >= last || following.IsCompleted;
            },
            Deadline,
            () => $"the watch at {consumer.Revision}, the last write at {last}");
        Assert.False(
            following.IsCompleted,
            following.Exception?.ToString() ?? (stop.IsCancellationRequested ? "the test's budget ran out before the watch caught up" : "the watch ended"));
        output.WriteLine($"{overflow}: converged {clock.ElapsedMilliseconds} ms after the burst began, {consumer.Resyncs} listings");
        foreach (var line in logs.Messages.Where(m => m.Contains("Watch of", StringComparison.Ordinal)))
        {
            output.WriteLine(line);
        }

        var expected = await FreshListingAsync("burst");
        Assert.Equal(Initial + Initial - Half, expected.Count);
        Assert.Equal(
            expected.Select(i => (i.Key, Encoding.UTF8.GetString(i.Value.Span), i.ModRevision)),
            consumer.State.Values.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => (i.Key, Encoding.UTF8.GetString(i.Value.Span), i.ModRevision)));
        Assert.True(consumer.Resyncs >= 2, $"{consumer.Resyncs} listings: the watch never started over");
        Assert.Contains(logs.Messages, m => m.Contains(eventCapacity == 1 ? "overflowed" : "re-reads its subtree: more than", StringComparison.Ordinal));
        await stop.CancelAsync();
        await following;
        await consumer.DisposeAsync();
    }

    private static string Key(string prefix, int i) => $"{prefix}/{i % 64:x2}/k{i}";

    private static Operation Create(string key, string value) => new(OperationKind.Create, key, Encoding.UTF8.GetBytes(value));

    private static Operation Update(string key, string value) => new(OperationKind.Update, key, Encoding.UTF8.GetBytes(value));

    private static Operation Delete(string key) => new(OperationKind.Delete, key, ReadOnlyMemory<byte>.Empty);

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

    /// <summary>What a new watch of <paramref name="prefix"/> lists, from a store of its own.</summary>
    private async Task<IReadOnlyList<StoreItem>> FreshListingAsync(string prefix)
    {
        await using var store = await ZooKeeperCoordinationStore.ConnectAsync(Options(fixture.ConnectionString));
        using var stop = new CancellationTokenSource(Deadline);
        await using var updates = store.WatchAsync(prefix, 0, stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        return Assert.IsType<WatchResync>(updates.Current).Items;
    }

    private ZooKeeperStoreOptions Options(string connectionString) => new()
    {
        ConnectionString = connectionString,
        Root = _root,
        SessionTimeout = TimeSpan.FromSeconds(10),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    private async Task<ICoordinationStore> ConnectAsync(string connectionString, Action<ZooKeeperStoreOptions>? configure = null, CapturingLoggerFactory? logs = null)
    {
        var options = Options(connectionString);
        configure?.Invoke(options);
        var store = await ZooKeeperCoordinationStore.ConnectAsync(options, logs);
        _owned.Add(store);
        return store;
    }

    /// <summary>Applies a watch's updates to a map of the subtree, as a cache would.</summary>
    private sealed class Consumer(IAsyncEnumerator<WatchUpdate> updates) : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, StoreItem> _state = new(StringComparer.Ordinal);
        private long _revision;

        public Dictionary<string, StoreItem> State
        {
            get
            {
                lock (_lock)
                {
                    return new Dictionary<string, StoreItem>(_state, StringComparer.Ordinal);
                }
            }
        }

        public long Revision => Interlocked.Read(ref _revision);

        public int Resyncs { get; private set; }

        public async Task NextAsync()
        {
            Assert.True(await updates.MoveNextAsync());
            Apply(updates.Current);
        }

        /// <summary>Applies every update until the token fires.</summary>
        public async Task FollowAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (await updates.MoveNextAsync())
                {
                    Apply(updates.Current);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The test is over.
            }
        }

        public ValueTask DisposeAsync() => updates.DisposeAsync();

        private void Apply(WatchUpdate update)
        {
            lock (_lock)
            {
                switch (update)
                {
                    case WatchResync resync:
                        _state.Clear();
                        foreach (var item in resync.Items)
                        {
                            _state[item.Key] = item;
                        }

                        Resyncs++;
                        break;
                    case WatchChanges changes:
                        foreach (var change in changes.Changes)
                        {
                            var held = _state.GetValueOrDefault(change.Key);
                            if (change.Kind == ChangeKind.Put && (held is null || change.Item!.ModRevision > held.ModRevision))
                            {
                                _state[change.Key] = change.Item!;
                            }
                            else if (change.Kind == ChangeKind.Delete && held is not null && held.ModRevision < change.Revision)
                            {
                                _state.Remove(change.Key);
                            }
                        }

                        break;
                }

                Interlocked.Exchange(ref _revision, Math.Max(_revision, update.Revision));
            }
        }
    }
}
