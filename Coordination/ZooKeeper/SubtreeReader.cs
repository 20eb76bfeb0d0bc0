using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>What one <c>getData</c> tells a subtree read about a node that exists.</summary>
/// <param name="Item">Its item, or null for a directory (a znode without a value).</param>
/// <param name="Children">How many children its stat counts (<c>numChildren</c>).</param>
internal readonly record struct NodeData(StoreItem? Item, int Children);

/// <summary>
/// Reads every key of a subtree with pipelined requests, never more than a window of them in flight.
/// </summary>
/// <remarks>
/// <para>Cost: one <c>getData</c> per node, and one <c>getChildren</c> per node whose stat counts children: on the
/// control plane's layout, where values live at leaves, about one request per key, not two.</para>
/// <para>Why a window: ZooKeeper answers one connection's requests in order, so everything queued behind a read of
/// 100,000 nodes sent at once (another watch's reads, a commit, the election's requests, the pings that keep the
/// session alive) waits for all of it, and the server throttles every connection while more than its
/// <c>globalOutstandingLimit</c> (1,000 by default) requests are in process. With at most a window in flight the
/// read keeps the pipe full, and whatever else uses the connection waits behind at most a window.</para>
/// <para>Completeness: the caller watches the subtree before it reads. A node is read after the read began, so it
/// shows its state at that time or later; a child created after its parent's <c>getData</c> said it had none, or
/// after its parent's <c>getChildren</c>, is notified to the watch and read then.</para>
/// </remarks>
internal static class SubtreeReader
{
    /// <summary>
    /// Appends the item of every key under <paramref name="root"/> (the root included; directories have none) to
    /// <paramref name="items"/>, in no particular order, with at most <paramref name="window"/> requests in flight.
    /// </summary>
    /// <param name="root">The subtree's key (empty: the store's root).</param>
    /// <param name="readData">Reads a node: null when it does not exist (any more).</param>
    /// <param name="readChildren">A node's child names: empty when it does not exist (any more).</param>
    /// <param name="window">Most requests in flight at once, at least 1.</param>
    /// <param name="items">Where the items go.</param>
    /// <param name="cancellationToken">Stops the read; requests already sent are left to complete.</param>
    /// <returns>How many requests the read sent.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is below 1.</exception>
    /// <remarks>The first failed request fails the read: no request is sent after it, and the ones in flight are left
    /// to complete (at most <paramref name="window"/> − 1).</remarks>
    public static async Task<long> ReadAsync(
        string root,
        Func<string, CancellationToken, Task<NodeData?>> readData,
        Func<string, CancellationToken, Task<IReadOnlyList<string>>> readChildren,
        int window,
        List<StoreItem> items,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        // A visit sends one request at a time (getData, then getChildren if the node has children), so the visits
        // under way are the requests in flight. Each reports here; at most `window` reports are ever queued.
        var done = Channel.CreateUnbounded<Visit>(new UnboundedChannelOptions { SingleReader = true });
        var waiting = new Queue<string>();
        waiting.Enqueue(root);
        var active = 0;
        long requests = 0;
        // Set when the read fails or is cancelled: a visit under way sends no second request.
        var stopped = new StrongBox<bool>();
        // Bounded: every node is visited once, each visit ends with one report, and the queue only grows by the
        // children the store names.
        while (waiting.Count > 0 || active > 0)
        {
            while (active < window && waiting.TryDequeue(out var next))
            {
                active++;
                _ = VisitAsync(next);
            }

            Visit visit;
            try
            {
                visit = await done.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Volatile.Write(ref stopped.Value, true);
                throw;
            }

            active--;
            requests += visit.Requests;
            if (visit.Error is not null)
            {
                Volatile.Write(ref stopped.Value, true);
                ExceptionDispatchInfo.Throw(visit.Error);
            }

            if (visit.Data?.Item is { } item)
            {
                items.Add(item);
            }

            foreach (var child in visit.Children)
            {
                waiting.Enqueue(visit.Key.Length == 0 ? child : visit.Key + "/" + child);
            }
        }

        return requests;

        async Task VisitAsync(string key)
        {
            var sent = 1;
            try
            {
                var data = await readData(key, cancellationToken).ConfigureAwait(false);
                IReadOnlyList<string> children = [];
                if (data is { Children: > 0 } && !Volatile.Read(ref stopped.Value))
                {
                    sent++;
                    children = await readChildren(key, cancellationToken).ConfigureAwait(false);
                }

                done.Writer.TryWrite(new Visit(key, data, children, sent, null));
            }
            catch (Exception ex)
            {
                // Reported, never thrown here: the loop rethrows the first, and one that comes after it is dropped.
                done.Writer.TryWrite(new Visit(key, null, [], sent, ex));
            }
        }
    }

    private readonly record struct Visit(string Key, NodeData? Data, IReadOnlyList<string> Children, int Requests, Exception? Error);
}
