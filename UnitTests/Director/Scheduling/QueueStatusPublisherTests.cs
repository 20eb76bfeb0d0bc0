using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Election;
using ControlPlane.Director.Hosting;
using ControlPlane.Director.Scheduling;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ControlPlane.UnitTests.Director.Scheduling;

/// <summary>The leader's publication of its pending counts, against the in-memory store with a real election and a
/// manual clock (the interval is measured on it).</summary>
public sealed class QueueStatusPublisherTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly Dictionary<string, int> NoGroups = [];
    private readonly InMemoryStoreServer _server = new();
    private readonly ManualTimeProvider _time = new();
    private readonly List<IAsyncDisposable> _owned = [];
    private InMemoryStore _store = null!;
    private LeaderElection _election = null!;
    private long _epoch;

    public async Task InitializeAsync() => (_store, _election, _epoch) = await LeadAsync();

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_first_publication_creates_the_record_with_the_epoch_and_the_counts()
    {
        var publisher = Publisher();

        var written = await publisher.PublishAsync(_election, _epoch, 42, new Dictionary<string, int> { ["big"] = 600, ["small"] = 3 }, default);

        Assert.True(written);
        var record = await ReadAsync();
        Assert.Equal((Protocol.SchemaVersion, _epoch, 42, _time.GetUtcNow()), (record.Schema, record.Epoch, record.Pending, record.At));
        // Half of MaxPendingPerGroup (1,000) or more is listed; the small group is not.
        Assert.Equal(new Dictionary<string, int> { ["big"] = 600 }, record.Groups);
        Assert.Equal(record, Assert.IsType<QueueStatusRecord>(publisher.Published) with { Groups = record.Groups });
    }

    [Fact]
    public async Task A_change_within_the_interval_waits_for_it_and_unchanged_counts_are_not_rewritten()
    {
        var publisher = Publisher();
        Assert.True(await publisher.PublishAsync(_election, _epoch, 10, NoGroups, default));
        var first = await _store.GetAsync(StoreLayout.QueueStatus);

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.False(await publisher.PublishAsync(_election, _epoch, 11, NoGroups, default));
        Assert.Equal(10, (await ReadAsync()).Pending);

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(await publisher.PublishAsync(_election, _epoch, 11, NoGroups, default));
        Assert.Equal(11, (await ReadAsync()).Pending);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await publisher.PublishAsync(_election, _epoch, 11, NoGroups, default));
        var last = await _store.GetAsync(StoreLayout.QueueStatus);
        Assert.Equal(first!.Version + 1, last!.Version);
    }

    [Fact]
    public async Task A_change_in_a_listed_group_alone_is_published()
    {
        var publisher = Publisher();
        Assert.True(await publisher.PublishAsync(_election, _epoch, 900, new Dictionary<string, int> { ["g"] = 800 }, default));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await publisher.PublishAsync(_election, _epoch, 900, new Dictionary<string, int> { ["g"] = 700, ["h"] = 100 }, default));

        Assert.Equal(new Dictionary<string, int> { ["g"] = 700 }, (await ReadAsync()).Groups);
    }

    [Fact]
    public async Task A_record_left_by_an_earlier_leader_is_replaced_by_the_first_publication()
    {
        await Publisher().PublishAsync(_election, _epoch, 5000, NoGroups, default);
        await _election.ResignAsync();
        var (_, successor, epoch) = await LeadAsync();
        Assert.True(epoch > _epoch);

        // A fresh publisher, and the same one reused across terms: both write at once although the count is unchanged.
        Assert.True(await Publisher().PublishAsync(successor, epoch, 5000, NoGroups, default));
        var record = await ReadAsync();
        Assert.Equal((epoch, 5000), (record.Epoch, record.Pending));
    }

    [Fact]
    public async Task One_publisher_starts_afresh_in_a_new_term()
    {
        var publisher = Publisher();
        Assert.True(await publisher.PublishAsync(_election, _epoch, 7, NoGroups, default));
        await _election.ResignAsync();
        var (_, successor, epoch) = await LeadAsync();

        // No interval has passed and nothing changed, but the record names the old epoch: it is written now.
        Assert.True(await publisher.PublishAsync(successor, epoch, 7, NoGroups, default));
        Assert.Equal(epoch, (await ReadAsync()).Epoch);
    }

    [Fact]
    public async Task A_record_deleted_by_hand_is_created_again()
    {
        var publisher = Publisher();
        await publisher.PublishAsync(_election, _epoch, 1, NoGroups, default);
        _server.DeleteSilently(StoreLayout.QueueStatus);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await publisher.PublishAsync(_election, _epoch, 2, NoGroups, default));

        Assert.Equal(2, (await ReadAsync()).Pending);
    }

    [Fact]
    public async Task A_failed_write_is_not_thrown_and_is_retried_after_the_interval()
    {
        var publisher = Publisher();
        _store.LoseNextCommitReply();

        Assert.False(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, default));
        Assert.Null(publisher.Published);

        // Not per pass: the next attempt waits for the interval.
        Assert.False(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, default));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, default));
        Assert.Equal(3, (await ReadAsync()).Pending);
    }

    [Fact]
    public async Task Lost_leadership_and_cancellation_reach_the_caller_and_nothing_is_written()
    {
        var publisher = Publisher();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await publisher.PublishAsync(_election, _epoch, 1, NoGroups, cancelled.Token));

        await _election.ResignAsync();
        await Assert.ThrowsAsync<LeadershipLostException>(async () => await publisher.PublishAsync(_election, _epoch, 1, NoGroups, default));

        Assert.Null(await _store.GetAsync(StoreLayout.QueueStatus));
    }

    [Fact]
    public async Task Reasons_are_published_when_they_change_and_built_at_most_once_per_interval()
    {
        var publisher = Publisher();
        var built = 0;
        var unplaced = new UnplacedClass { Executor = "gpu", Jobs = 3, Workers = 2, WithoutExecutor = 2 };
        var explanation = QueueExplanation.None;
        QueueExplanation Explain()
        {
            built++;
            return explanation;
        }

        Assert.True(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, Explain, default));
        Assert.Null((await ReadAsync()).Unplaced);

        // Within the interval nothing is built, however many passes ask.
        explanation = new QueueExplanation([unplaced], 0, new Dictionary<string, GroupHead> { ["g"] = new() { Job = "j", Out = true, Pending = 1 } }, 0);
        Assert.False(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, Explain, default));
        Assert.False(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, Explain, default));
        Assert.Equal(1, built);

        // Same counts, new reasons: written.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, Explain, default));
        var record = await ReadAsync();
        Assert.Equal(("gpu", 3, 2), (Assert.Single(record.Unplaced!).Executor, record.Unplaced![0].Jobs, record.Unplaced[0].WithoutExecutor));
        Assert.Equal("j", record.GroupHeads!["g"].Job);
        Assert.Equal(2, built);

        // Unchanged reasons a while later: built again (once), not rewritten.
        _time.Advance(TimeSpan.FromSeconds(5));
        var version = (await _store.GetAsync(StoreLayout.QueueStatus))!.Version;
        Assert.False(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, Explain, default));
        Assert.False(await publisher.PublishAsync(_election, _epoch, 3, NoGroups, Explain, default));
        Assert.Equal(3, built);
        Assert.Equal(version, (await _store.GetAsync(StoreLayout.QueueStatus))!.Version);
    }

    [Fact]
    public void Groups_are_listed_from_half_the_limit_largest_first_and_bounded_in_count()
    {
        var many = Enumerable.Range(0, QueueStatusRecord.MaxGroups + 500).ToDictionary(i => $"g{i:d5}", i => 10 + i);
        many["tiny"] = 4;

        var selected = QueueStatusPublisher.SelectGroups(many, threshold: 5);

        Assert.Equal(QueueStatusRecord.MaxGroups, selected.Count);
        Assert.Equal(Enumerable.Range(500, QueueStatusRecord.MaxGroups).Select(i => 10 + i).OrderDescending(), selected.Values);
        Assert.Empty(QueueStatusPublisher.SelectGroups(many, threshold: null));
    }

    [Fact]
    public void Groups_are_bounded_in_bytes_even_with_long_escaped_names()
    {
        // 128 non-ASCII characters are escaped to 768 bytes each name: the byte bound stops well before the count bound.
        var many = Enumerable.Range(0, 200).ToDictionary(i => i.ToString("d3", System.Globalization.CultureInfo.InvariantCulture) + new string('é', 125), i => 1000 + i);

        var selected = QueueStatusPublisher.SelectGroups(many, threshold: 1);

        Assert.InRange(selected.Count, 10, 199);
        var record = new QueueStatusRecord { Epoch = 1, Pending = 1, Groups = selected };
        Assert.True(ContractJson.Serialize(record).Length <= QueueStatusRecord.MaxGroupBytes + 200);
        Assert.Equal(selected.Values.Max(), many.Values.Max());
    }

    private QueueStatusPublisher Publisher() => new(
        Options.Create(new AdmissionOptions { MaxPendingPerGroup = 1000, QueueStatusInterval = TimeSpan.FromSeconds(1) }),
        _time,
        NullLogger<QueueStatusPublisher>.Instance);

    private async Task<QueueStatusRecord> ReadAsync()
    {
        var item = await _store.GetAsync(StoreLayout.QueueStatus);
        Assert.NotNull(item);
        return ContractJson.Deserialize<QueueStatusRecord>(item.Value.Span);
    }

    private async Task<(InMemoryStore Store, LeaderElection Election, long Epoch)> LeadAsync()
    {
        var store = _server.Connect(timeProvider: _time);
        var election = new LeaderElection(
            store,
            new LeaderElectionOptions { ElectionKey = StoreLayout.Election, CandidateValue = "{}"u8.ToArray(), RetryDelay = TimeSpan.FromMilliseconds(100) },
            timeProvider: _time);
        // Disposed in reverse: the store (and its session) first, so a resign never waits on the manual clock.
        _owned.Add(election);
        _owned.Add(store);
        election.Start();
        var lead = await Eventually.WithinAsync(election.WaitForLeadershipAsync(), Deadline, "leadership");
        return (store, election, lead.Epoch);
    }
}
