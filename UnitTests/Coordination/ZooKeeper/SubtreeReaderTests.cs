using ControlPlane.Coordination;
using ControlPlane.Coordination.ZooKeeper;
using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.Coordination.ZooKeeper;

/// <summary>The windowed subtree read on a fake tree: the window is never exceeded, every key is read, children are
/// asked for only where the stat counts some, and a failure stops the read.</summary>
public sealed class SubtreeReaderTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(512)]
    public async Task Never_has_more_requests_in_flight_than_the_window_and_reads_every_key(int window)
    {
        // The control plane's shape: directories down to buckets, values at the leaves, plus one value with children.
        var tree = new FakeTree(seed: window);
        tree.Add("");
        tree.Add("jobs");
        for (var b = 0; b < 64; b++)
        {
            tree.Add($"jobs/{b:x2}");
            for (var j = 0; j < 150; j++)
            {
                tree.Add($"jobs/{b:x2}/j{j}", value: true);
            }
        }

        tree.Add("schedules");
        tree.Add("schedules/s1", value: true);
        tree.Add("schedules/s1/child", value: true);
        var items = new List<StoreItem>();

        var requests = await SubtreeReader.ReadAsync("", tree.ReadDataAsync, tree.ReadChildrenAsync, window, items, CancellationToken.None);

        Assert.True(tree.MaxInFlight <= window, $"{tree.MaxInFlight} requests in flight with a window of {window}");
        Assert.True(window == 1 ? tree.MaxInFlight == 1 : tree.MaxInFlight > 1, $"{tree.MaxInFlight} in flight at most: not pipelined");
        Assert.Equal(tree.Values.Order(StringComparer.Ordinal), items.Select(i => i.Key).Order(StringComparer.Ordinal));
        // getChildren only for the nodes that have children: root, jobs, the buckets, schedules, s1.
        Assert.Equal(64 + 4, tree.ChildrenReads);
        Assert.Equal(tree.Count + 64 + 4, requests);
    }

    [Fact]
    public async Task The_window_fills_and_a_slot_is_refilled_as_soon_as_an_answer_frees_it()
    {
        var tree = new FakeTree(seed: 5) { Gated = true };
        tree.Add("");
        for (var j = 0; j < 100; j++)
        {
            tree.Add($"j{j}", value: true);
        }

        var items = new List<StoreItem>();
        var read = SubtreeReader.ReadAsync("", tree.ReadDataAsync, tree.ReadChildrenAsync, 16, items, CancellationToken.None);

        // The root's getData, then its getChildren, one at a time; then the window fills with the leaves.
        await Eventually.UntilAsync(() => tree.InFlight == 1, Deadline);
        tree.Answer(1);
        await Eventually.UntilAsync(() => tree.InFlight == 1 && tree.ChildrenReads == 1, Deadline);
        tree.Answer(1);
        await Eventually.UntilAsync(() => tree.InFlight == 16, Deadline);
        tree.Answer(3);
        await Eventually.UntilAsync(() => tree.InFlight == 16 && tree.Started == 2 + 16 + 3, Deadline, () => $"{tree.InFlight} in flight, {tree.Started} started");
        // Then answer everything as it comes, until the read is done (bounded: 100 leaves).
        for (var round = 0; round < 200 && !read.IsCompleted; round++)
        {
            tree.Answer(int.MaxValue);
            await Eventually.UntilAsync(() => tree.Parked > 0 || read.IsCompleted, Deadline);
        }

        await read.WaitAsync(Deadline);
        Assert.Equal(16, tree.MaxInFlight);
        Assert.Equal(100, items.Count);
    }

    [Fact]
    public async Task A_subtree_reads_from_its_own_key_down()
    {
        var tree = new FakeTree(seed: 1);
        tree.Add("a");
        tree.Add("a/b", value: true);
        tree.Add("c", value: true);
        var items = new List<StoreItem>();

        await SubtreeReader.ReadAsync("a", tree.ReadDataAsync, tree.ReadChildrenAsync, 8, items, CancellationToken.None);

        Assert.Equal(["a/b"], items.Select(i => i.Key));
    }

    [Fact]
    public async Task Nodes_deleted_during_the_read_are_skipped()
    {
        var tree = new FakeTree(seed: 2);
        tree.Add("");
        tree.Add("d");
        tree.Add("d/gone", value: true);
        tree.Add("d/kept", value: true);
        tree.Add("e");
        tree.Add("e/x", value: true);
        // Listed by its parent, gone by the time it is read; and a parent whose children all went after its getData.
        tree.Vanish("d/gone");
        tree.VanishChildren("e");
        var items = new List<StoreItem>();

        await SubtreeReader.ReadAsync("", tree.ReadDataAsync, tree.ReadChildrenAsync, 4, items, CancellationToken.None);

        Assert.Equal(["d/kept"], items.Select(i => i.Key));
    }

    [Fact]
    public async Task A_failed_request_fails_the_read_and_nothing_is_sent_after_it()
    {
        var tree = new FakeTree(seed: 3) { Gated = true };
        tree.Add("");
        for (var b = 0; b < 20; b++)
        {
            tree.Add($"b{b}");
            for (var j = 0; j < 50; j++)
            {
                tree.Add($"b{b}/j{j}", value: true);
            }
        }

        tree.FailOn("b0");
        var read = SubtreeReader.ReadAsync("", tree.ReadDataAsync, tree.ReadChildrenAsync, 4, [], CancellationToken.None);
        await Eventually.UntilAsync(() => tree.Parked == 1, Deadline);
        tree.Answer(1);
        await Eventually.UntilAsync(() => tree.Parked == 1 && tree.ChildrenReads == 1, Deadline);
        tree.Answer(1);
        await Eventually.UntilAsync(() => tree.Parked == 4, Deadline); // b0..b3

        tree.Answer(1); // b0 fails
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => read.WaitAsync(Deadline));

        Assert.Equal("b0", error.Message);
        // The three in flight complete; though their nodes have children, no getChildren follows, nor any new read.
        tree.Answer(3);
        await Eventually.UntilAsync(() => tree.InFlight == 0, Deadline);
        Assert.Equal((2 + 4, 1, 0), (tree.Started, tree.ChildrenReads, tree.Parked));
    }

    [Fact]
    public async Task A_window_below_one_is_refused()
    {
        var tree = new FakeTree(seed: 4);
        tree.Add("");

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            SubtreeReader.ReadAsync("", tree.ReadDataAsync, tree.ReadChildrenAsync, 0, [], CancellationToken.None));

        Assert.Equal("window", error.ParamName);
    }

    /// <summary>A tree answered asynchronously, each answer after a random number of yields (so answers come back out of
    /// order), counting the requests in flight.</summary>
    private sealed class FakeTree(int seed)
    {
        private readonly Dictionary<string, (bool Value, List<string> Children)> _nodes = new(StringComparer.Ordinal);
        private readonly HashSet<string> _vanished = new(StringComparer.Ordinal);
        private readonly HashSet<string> _childless = new(StringComparer.Ordinal);
        private readonly Random _random = new(seed);
        private readonly Lock _lock = new();
        private string? _failOn;
        private int _inFlight;
        private int _maxInFlight;
        private int _childrenReads;
        private readonly Queue<TaskCompletionSource> _parked = new();
        private int _started;

        /// <summary>When set, every request waits for <see cref="Answer"/>; otherwise each is answered after 1-3 yields.</summary>
        public bool Gated { get; init; }

        public int Started => Volatile.Read(ref _started);

        public int Parked
        {
            get
            {
                lock (_lock)
                {
                    return _parked.Count;
                }
            }
        }

        public int Count => _nodes.Count;

        public IEnumerable<string> Values => _nodes.Where(n => n.Value.Value && !_vanished.Contains(n.Key)).Select(n => n.Key);

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public int InFlight => Volatile.Read(ref _inFlight);

        public int ChildrenReads => Volatile.Read(ref _childrenReads);

        public void Add(string key, bool value = false)
        {
            _nodes[key] = (value, []);
            if (key.Length > 0)
            {
                var slash = key.LastIndexOf('/');
                var parent = slash < 0 ? "" : key[..slash];
                if (_nodes.TryGetValue(parent, out var node))
                {
                    node.Children.Add(slash < 0 ? key : key[(slash + 1)..]);
                }
            }
        }

        public void Vanish(string key) => _vanished.Add(key);

        public void VanishChildren(string key) => _childless.Add(key);

        public void FailOn(string key) => _failOn = key;

        /// <summary>Answers up to <paramref name="count"/> parked requests, oldest first.</summary>
        public void Answer(int count)
        {
            var answered = new List<TaskCompletionSource>();
            lock (_lock)
            {
                while (answered.Count < count && _parked.TryDequeue(out var parked))
                {
                    answered.Add(parked);
                }
            }

            foreach (var parked in answered)
            {
                parked.SetResult();
            }
        }

        public async Task<NodeData?> ReadDataAsync(string key, CancellationToken cancellationToken)
        {
            await RequestAsync().ConfigureAwait(false);
            if (key == _failOn)
            {
                throw new InvalidOperationException(key);
            }

            if (_vanished.Contains(key) || !_nodes.TryGetValue(key, out var node))
            {
                return null;
            }

            var item = node.Value ? new StoreItem(key, new byte[] { 1 }, 1, 1, 1, 0) : null;
            return new NodeData(item, node.Children.Count);
        }

        public async Task<IReadOnlyList<string>> ReadChildrenAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _childrenReads);
            await RequestAsync().ConfigureAwait(false);
            return _childless.Contains(key) || !_nodes.TryGetValue(key, out var node) ? [] : node.Children;
        }

        private async Task RequestAsync()
        {
            var now = Interlocked.Increment(ref _inFlight);
            var max = Volatile.Read(ref _maxInFlight);
            while (now > max)
            {
                var seen = Interlocked.CompareExchange(ref _maxInFlight, now, max);
                if (seen == max)
                {
                    break;
                }

                max = seen;
            }

            Interlocked.Increment(ref _started);
            int yields;
            TaskCompletionSource? parked = null;
            lock (_lock)
            {
                yields = _random.Next(1, 4);
                if (Gated)
                {
                    parked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _parked.Enqueue(parked);
                }
            }

            try
            {
                if (parked is not null)
                {
                    await parked.Task;
                }
                else
                {
                    for (var i = 0; i < yields; i++)
                    {
                        await Task.Yield();
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
