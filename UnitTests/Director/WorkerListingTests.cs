using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Api;
using ControlPlane.Director.Hosting;
using ControlPlane.TestSupport.Coordination;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.UnitTests.Director;

/// <summary><c>GET /v1/workers</c> pages: a constant number of store lists per page whatever the number of workers,
/// and every worker exactly once with its markers, also when markers of departed workers cut a page short.</summary>
public sealed class WorkerListingTests : IAsyncDisposable
{
    private readonly InMemoryStoreServer _server = new();
    private readonly InMemoryStore _store;
    private readonly RecordingStore _recorded;
    // Never started: the listing gets the store as a parameter.
    private readonly StoreConnection _connection = new(new StoreOptions());
    private readonly WorkerQueries _queries;

    public WorkerListingTests()
    {
        _store = _server.Connect();
        _recorded = new RecordingStore(_store);
        var identity = new DirectorIdentity(Microsoft.Extensions.Options.Options.Create(new DirectorOptions { Id = "d1" }), null!);
        _queries = new WorkerQueries(_connection, TimeProvider.System, identity, NullLogger<WorkerQueries>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _connection.DisposeAsync();
    }

    [Fact]
    public async Task Three_thousand_workers_are_listed_a_page_at_a_time_with_three_store_lists_per_page_and_no_per_worker_read()
    {
        var ids = Enumerable.Range(0, 3000).Select(i => $"w-{i:d5}").ToList();
        await WriteAsync(ids.Select(id => (StoreLayout.Worker(id), Record(id, id.EndsWith('7') ? null : 2))));
        await WriteAsync(ids.Where((_, i) => i % 10 == 3).Select(id => (StoreLayout.Drain(id), ContractJson.Serialize(new DrainRecord()))));
        await WriteAsync(ids.Where((_, i) => i % 10 == 5).Select(id => (StoreLayout.Suspect(id), ContractJson.Serialize(new SuspectRecord { Reason = "test" }))));

        var (seen, requests) = await ListAllAsync(limit: 500);

        Assert.Equal(ids, seen.Select(w => w.Id));
        Assert.Equal(6, requests);
        Assert.All(_recorded.Calls, call => Assert.StartsWith("list ", call, StringComparison.Ordinal));
        Assert.Equal(3 * requests, _recorded.Calls.Count);
        Assert.All(seen, w => Assert.Equal(
            (int.Parse(w.Id[2..], System.Globalization.CultureInfo.InvariantCulture) % 10) switch { 3 => "draining", 5 => "suspect", _ => "ready" },
            w.State));
        Assert.All(seen, w => Assert.Equal(w.Id.EndsWith('7') ? null : 2, w.SlotsUsed));
    }

    [Fact]
    public async Task Drain_records_of_departed_workers_end_a_page_early_and_the_cursor_resumes_after_them()
    {
        // 150 leftover drains between w-00010 and w-00011, more than the page's slack: the first page stops inside them.
        var ids = Enumerable.Range(0, 30).Select(i => $"w-{i:d5}").ToList();
        await WriteAsync(ids.Select(id => (StoreLayout.Worker(id), Record(id, 0))));
        await WriteAsync(Enumerable.Range(0, 150).Select(i => (StoreLayout.Drain($"w-00010-gone-{i:d3}"), ContractJson.Serialize(new DrainRecord()))));
        await WriteAsync([(StoreLayout.Drain("w-00020"), ContractJson.Serialize(new DrainRecord()))]);

        var (seen, requests) = await ListAllAsync(limit: 20);

        Assert.Equal(ids, seen.Select(w => w.Id));
        // Page 1 ends at the 120th leftover drain (w-00000 to w-00010), page 2 holds the rest.
        Assert.Equal(2, requests);
        Assert.Equal(3 * requests, _recorded.Calls.Count);
        Assert.Equal("draining", Assert.Single(seen, w => w.Id == "w-00020").State);
        Assert.Single(seen, w => w.State == "draining");
    }

    [Fact]
    public void A_cursor_round_trips_and_anything_else_is_refused()
    {
        Assert.True(WorkerCursor.TryDecode(new WorkerCursor("host-1.a_b:c@d").Encode(), out var cursor));
        Assert.Equal("host-1.a_b:c@d", cursor!.LastId);
        Assert.False(WorkerCursor.TryDecode("not ours!", out _));
        Assert.False(WorkerCursor.TryDecode(new WorkerCursor("a/b").Encode(), out _));
        Assert.False(WorkerCursor.TryDecode(new WorkerCursor(new string('a', 129)).Encode(), out _));
        Assert.False(WorkerCursor.TryDecode("", out _));
    }

    private static byte[] Record(string id, int? slotsUsed) =>
        ContractJson.Serialize(new WorkerRecord { Id = id, Host = "h", Slots = 4, SlotsUsed = slotsUsed, StartedAt = DateTimeOffset.UnixEpoch });

    private async Task WriteAsync(IEnumerable<(string Key, byte[] Value)> items)
    {
        foreach (var chunk in items.Chunk(Transaction.MaxOperations))
        {
            var transaction = new Transaction();
            foreach (var (key, value) in chunk)
            {
                transaction.Create(key, value);
            }

            Assert.True((await _store.CommitAsync(transaction)).Succeeded);
        }
    }

    private async Task<(List<WorkerView> Seen, int Requests)> ListAllAsync(int limit)
    {
        _recorded.ClearCalls();
        var seen = new List<WorkerView>();
        WorkerCursor? cursor = null;
        var requests = 0;
        do
        {
            Assert.True(++requests < 1000, "the listing does not end");
            var page = await _queries.ListAsync(_recorded, new WorkerQuery(limit, cursor), CancellationToken.None);
            Assert.True(page.Items.Count <= limit);
            seen.AddRange(page.Items);
            cursor = null;
            if (page.Cursor is not null)
            {
                Assert.True(WorkerCursor.TryDecode(page.Cursor, out cursor));
            }
        }
        while (cursor is not null);

        return (seen, requests);
    }
}
