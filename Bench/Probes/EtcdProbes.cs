using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ControlPlane.TestSupport;

namespace ControlPlane.Bench.Probes;

/// <summary>
/// What a resilience probe needs from an etcd client library, in that library's own idiom. Implemented for our
/// client (<c>Bench etcd-probes</c>) and for dotnet-etcd (<c>Bench/DotnetEtcd</c>); this file is compiled into both.
/// </summary>
internal interface IEtcdProbeClient : IAsyncDisposable
{
    /// <summary>Grants a lease and keeps it alive the way the library offers; returns the lease id.</summary>
    Task<long> GrantKeptAliveLeaseAsync(int ttlSeconds, CancellationToken cancellationToken);

    /// <summary>What the library says about the keep-alive now (state, fault), for the report.</summary>
    string KeepAliveStatus { get; }

    /// <summary>One put, with a lease when <paramref name="leaseId"/> is not 0.</summary>
    Task PutAsync(string key, string value, long leaseId, CancellationToken cancellationToken);

    /// <summary>One txn whose only operation is an unconditional put.</summary>
    Task TxnPutAsync(string key, string value, CancellationToken cancellationToken);

    /// <summary>Starts watching <paramref name="prefix"/> from <paramref name="startRevision"/>, recording into
    /// <paramref name="observation"/> every event's revision and every error or cancellation the library shows its
    /// caller. Returns once the watch is established.</summary>
    Task WatchPrefixAsync(string prefix, long startRevision, WatchObservation observation, CancellationToken cancellationToken);
}

/// <summary>What a watcher saw: event revisions and anything the library reported as an error or an end.</summary>
internal sealed class WatchObservation
{
    private readonly Lock _lock = new();
    private readonly List<long> _revisions = [];
    private readonly List<string> _errors = [];

    public void Event(long revision)
    {
        lock (_lock)
        {
            _revisions.Add(revision);
        }
    }

    public void Error(string what)
    {
        lock (_lock)
        {
            _errors.Add(what);
        }
    }

    public (long[] Revisions, string[] Errors) Snapshot()
    {
        lock (_lock)
        {
            return ([.. _revisions], [.. _errors]);
        }
    }
}

/// <summary>
/// Three resilience probes against a real etcd 3.4 started for each probe on 127.0.0.1, each printing one line
/// <c>probe CLIENT NAME PASS|FAIL key=value...</c>:
/// <list type="bullet">
/// <item><c>lease-outage</c>: a 10 s lease kept alive across a 3 s outage (the server killed and restarted on its
/// data directory). PASS when the key on the lease and the lease are still there 15 s after the restart, longer
/// than the TTL the server restarts every lease with.</item>
/// <item><c>watch-compaction</c>: a watcher cut off (through a proxy) while 20 events are written and the store
/// compacted past its position, let back in, then cut once more (an ordinary blip) with more writes after each.
/// PASS when it either sees every event or is told, with no event after the hole, that it must re-list; FAIL when
/// it delivers events after a gap, or nothing at all without an error.</item>
/// <item><c>write-retry</c>: a put and a txn whose answer is lost (the proxy forwards the request, drops the answer
/// and resets the connection). PASS when each was applied once (the key's version is 1).</item>
/// </list>
/// Writes that set the scene, compaction and every check go through <c>etcdctl</c>, never through the client
/// under test.
/// </summary>
internal static class EtcdProbes
{
    private const int LeaseTtlSeconds = 10;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan AfterRestart = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan WatchSettle = TimeSpan.FromSeconds(20);

    /// <summary>Runs the named probes (all when <paramref name="only"/> is empty) and returns the number that failed.</summary>
    public static async Task<int> RunAsync(
        string clientName, Func<string, IEtcdProbeClient> connect, IReadOnlyCollection<string> only, CancellationToken cancellationToken)
    {
        var probes = new (string Name, Func<Task<(bool Pass, string Detail)>> Run)[]
        {
            ("lease-outage", () => LeaseOutageAsync(connect, cancellationToken)),
            ("watch-compaction", () => WatchCompactionAsync(connect, cancellationToken)),
            ("write-retry", () => WriteRetryAsync(connect, cancellationToken)),
        };
        var failed = 0;
        foreach (var (name, run) in probes.Where(p => only.Count == 0 || only.Contains(p.Name)))
        {
            var clock = Stopwatch.StartNew();
            bool pass;
            string detail;
            try
            {
                (pass, detail) = await run().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                (pass, detail) = (false, "probe_error=" + Quote($"{ex.GetType().Name}: {ex.Message}"));
            }

            failed += pass ? 0 : 1;
            Console.WriteLine(FormattableString.Invariant(
                $"probe {clientName} {name} {(pass ? "PASS" : "FAIL")} {detail} seconds={clock.Elapsed.TotalSeconds:0.0}"));
        }

        return failed;
    }

    private static async Task<(bool, string)> LeaseOutageAsync(Func<string, IEtcdProbeClient> connect, CancellationToken ct)
    {
        await using var cluster = await EtcdCluster.StartAsync(cancellationToken: ct).ConfigureAwait(false);
        await using var client = connect(cluster.Endpoints);
        var lease = await client.GrantKeptAliveLeaseAsync(LeaseTtlSeconds, ct).ConfigureAwait(false);
        await client.PutAsync("probe/lease", "held", lease, ct).ConfigureAwait(false);

        await cluster.KillAsync(0).ConfigureAwait(false);
        // The outage being injected, not a wait for something to happen.
        await Task.Delay(Outage, ct).ConfigureAwait(false);
        await cluster.StartMemberAsync(0, ct).ConfigureAwait(false);
        // etcd restarts every lease with its full TTL when the member becomes leader again: a lease nobody keeps
        // alive is gone TTL later. Waiting longer than that is what tells a kept-alive lease from a forgotten one.
        await Task.Delay(AfterRestart, ct).ConfigureAwait(false);

        var keyPresent = await VersionAsync(cluster, "probe/lease").ConfigureAwait(false) > 0;
        using var ttl = JsonDocument.Parse(await cluster.EtcdCtlAsync(
            "lease", "timetolive", lease.ToString("x", CultureInfo.InvariantCulture), "-w", "json").ConfigureAwait(false));
        var remaining = ttl.RootElement.GetProperty("ttl").GetInt64();
        return (keyPresent && remaining > 0, FormattableString.Invariant(
            $"outage_s={Outage.TotalSeconds:0} ttl_s={LeaseTtlSeconds} key_present={keyPresent} lease_ttl_left={remaining} keepalive={Quote(client.KeepAliveStatus)}"));
    }

    private static async Task<(bool, string)> WatchCompactionAsync(Func<string, IEtcdProbeClient> connect, CancellationToken ct)
    {
        const string Prefix = "probe/watch/";
        await using var cluster = await EtcdCluster.StartAsync(cancellationToken: ct).ConfigureAwait(false);
        await using var proxy = TcpProxy.Start(cluster.Endpoints);
        await using var client = connect(proxy.Address);
        var observation = new WatchObservation();
        var start = await CurrentRevisionAsync(cluster).ConfigureAwait(false) + 1;
        await client.WatchPrefixAsync(Prefix, start, observation, ct).ConfigureAwait(false);

        var written = new List<long>();
        async Task WriteAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await cluster.EtcdCtlAsync("put", Prefix + written.Count.ToString("D3", CultureInfo.InvariantCulture), "v").ConfigureAwait(false);
                written.Add(start + written.Count);
            }
        }

        await WriteAsync(5).ConfigureAwait(false);
        await Eventually.UntilAsync(() => observation.Snapshot().Revisions.Length >= 5, TimeSpan.FromSeconds(15)).ConfigureAwait(false);

        // Cut the watcher off, move the store on and compact past the watcher's position, let it back in.
        proxy.RejectNew = true;
        proxy.CutAll();
        await WriteAsync(20).ConfigureAwait(false);
        var compactedAt = written[^1];
        await cluster.EtcdCtlAsync("compact", compactedAt.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        proxy.RejectNew = false;
        await WriteAsync(5).ConfigureAwait(false);
        await SettleAsync(observation, written[^1], stopOnError: true, WatchSettle).ConfigureAwait(false);

        // Then an ordinary connection drop, and more writes: a watch that was cancelled must stay ended, not come
        // back from wherever the library parked it.
        proxy.CutAll();
        await WriteAsync(5).ConfigureAwait(false);
        await SettleAsync(observation, written[^1], stopOnError: false, TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        var (seen, reported) = observation.Snapshot();
        var missing = written.Where(r => !seen.Contains(r)).ToArray();
        var deliveredAfterGap = missing.Length > 0 && seen.Any(r => r > missing[0]);
        var pass = missing.Length == 0 || (reported.Length > 0 && !deliveredAfterGap);
        var delivered = seen.Length == 0 ? "none" : $"{seen.Min()}..{seen.Max()}";
        return (pass, FormattableString.Invariant(
            $"written={written.Count} revisions={written[0]}..{written[^1]} compacted_at={compactedAt} seen={seen.Length} delivered={delivered} missing={missing.Length} events_after_gap={deliveredAfterGap} error={Quote(reported.Length == 0 ? "none" : string.Join(" | ", reported))}"));
    }

    /// <summary>Waits until the watcher has seen <paramref name="last"/> (or reported an error, with
    /// <paramref name="stopOnError"/>), or <paramref name="timeout"/> has passed: a silent watcher is judged by the
    /// caller, not here.</summary>
    private static async Task SettleAsync(WatchObservation observation, long last, bool stopOnError, TimeSpan timeout)
    {
        try
        {
            await Eventually.UntilAsync(
                () =>
                {
                    var (revisions, errors) = observation.Snapshot();
                    return revisions.Contains(last) || (stopOnError && errors.Length > 0);
                },
                timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nothing came: judged from what was seen.
        }
    }

    private static async Task<(bool, string)> WriteRetryAsync(Func<string, IEtcdProbeClient> connect, CancellationToken ct)
    {
        await using var cluster = await EtcdCluster.StartAsync(cancellationToken: ct).ConfigureAwait(false);
        await using var proxy = TcpProxy.Start(cluster.Endpoints);
        await using var client = connect(proxy.Address);

        async Task<(long Applied, string Outcome)> LoseAnswerAsync(string key, Func<Task> write)
        {
            // A connection up and idle, so the request is the only thing the armed proxy sees (the cut of the
            // previous probe closed the last one).
            await client.PutAsync("probe/warm", "w", 0, ct).ConfigureAwait(false);
            var cutsBefore = proxy.RequestCuts;
            proxy.CutAfterNextRequest(minimumBytes: 64, grace: TimeSpan.FromMilliseconds(500));
            string outcome;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                await write().WaitAsync(timeout.Token).ConfigureAwait(false);
                outcome = "ok";
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                outcome = ex.GetType().Name + ": " + ex.Message;
            }

            // The second attempt, if any, is over when the call returns; a cut that never fired makes the probe void.
            if (proxy.RequestCuts == cutsBefore)
            {
                throw new InvalidOperationException($"the proxy never saw the request for {key}; outcome {outcome}");
            }

            return (await VersionAsync(cluster, key).ConfigureAwait(false), outcome);
        }

        var (put, putOutcome) = await LoseAnswerAsync("probe/retry/put", () => client.PutAsync("probe/retry/put", "once", 0, ct)).ConfigureAwait(false);
        var (txn, txnOutcome) = await LoseAnswerAsync("probe/retry/txn", () => client.TxnPutAsync("probe/retry/txn", "once", ct)).ConfigureAwait(false);
        return (put <= 1 && txn <= 1, FormattableString.Invariant(
            $"put_applied={put} txn_applied={txn} put_result={Quote(putOutcome)} txn_result={Quote(txnOutcome)}"));
    }

    /// <summary>The key's version (how many times it was written since it was created), 0 when absent.</summary>
    private static async Task<long> VersionAsync(EtcdCluster cluster, string key)
    {
        using var json = JsonDocument.Parse(await cluster.EtcdCtlAsync("get", key, "-w", "json").ConfigureAwait(false));
        return json.RootElement.TryGetProperty("kvs", out var kvs) && kvs.GetArrayLength() > 0
            ? kvs[0].GetProperty("version").GetInt64()
            : 0;
    }

    private static async Task<long> CurrentRevisionAsync(EtcdCluster cluster)
    {
        using var json = JsonDocument.Parse(await cluster.EtcdCtlAsync("get", "probe/none", "-w", "json").ConfigureAwait(false));
        return json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }

    private static string Quote(string text)
    {
        var flat = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            flat.Append(c is '"' ? '\'' : char.IsControl(c) ? ' ' : c);
        }

        return flat.Append('"').ToString();
    }
}
