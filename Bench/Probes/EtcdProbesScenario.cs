using ControlPlane.Etcd;

namespace ControlPlane.Bench.Probes;

/// <summary>
/// The etcd resilience probes (<see cref="EtcdProbes"/>) with our client. Bench/etcd-probes.sh runs them beside
/// the same probes with dotnet-etcd (Bench/DotnetEtcd).
/// </summary>
internal sealed class EtcdProbesScenario : IScenario
{
    public string Name => "etcd-probes";

    public string Summary => "[--only lease-outage,watch-compaction,write-retry]: lease, watch and write-retry probes against a throwaway etcd";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string[] only = [];
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] != "--only" || i + 1 >= args.Length)
            {
                await Console.Error.WriteLineAsync($"unknown option {args[i]} (expected --only NAME[,NAME])").ConfigureAwait(false);
                return 2;
            }

            only = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries);
        }

        var failed = await EtcdProbes.RunAsync("ControlPlane.Etcd", endpoints => new OurProbeClient(endpoints), only, cancellationToken)
            .ConfigureAwait(false);
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Our client used as the control plane uses it: a kept-alive lease handle, a watch enumeration.</summary>
    private sealed class OurProbeClient(string endpoints) : IEtcdProbeClient
    {
        private readonly EtcdClient _client = new(new EtcdClientOptions { Endpoints = endpoints });
        private readonly CancellationTokenSource _stop = new();
        private EtcdLease? _lease;
        private Task _watchLoop = Task.CompletedTask;

        public string KeepAliveStatus => _lease is null
            ? "no lease"
            : _lease.Lost.IsCompleted ? $"{_lease.State}: {_lease.Lost.Result}" : _lease.State.ToString();

        public async Task<long> GrantKeptAliveLeaseAsync(int ttlSeconds, CancellationToken cancellationToken)
        {
            _lease = await _client.GrantLeaseAsync(TimeSpan.FromSeconds(ttlSeconds), keepAlive: true, cancellationToken).ConfigureAwait(false);
            return _lease.Id;
        }

        public Task PutAsync(string key, string value, long leaseId, CancellationToken cancellationToken) =>
            _client.PutAsync(EtcdOp.Put(key, value, leaseId), cancellationToken);

        public Task TxnPutAsync(string key, string value, CancellationToken cancellationToken) =>
            _client.TxnAsync(new EtcdTxn().Then(EtcdOp.Put(key, value).ToOp()), cancellationToken);

        public async Task WatchPrefixAsync(string prefix, long startRevision, WatchObservation observation, CancellationToken cancellationToken)
        {
            var watch = await _client.WatchPrefixAsync(prefix, new EtcdWatchOptions { StartRevision = startRevision }, cancellationToken)
                .ConfigureAwait(false);
            _watchLoop = ReadAsync(watch, observation);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _watchLoop.ConfigureAwait(false);
            await _client.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
        }

        private async Task ReadAsync(EtcdWatch watch, WatchObservation observation)
        {
            await using (watch.ConfigureAwait(false))
            {
                try
                {
                    await foreach (var batch in watch.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                    {
                        foreach (var e in batch.Events)
                        {
                            observation.Event(e.Kv.ModRevision);
                        }
                    }
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    // The probe is over.
                }
                catch (EtcdException ex)
                {
                    observation.Error($"{ex.GetType().Name}: {ex.Message}");
                }
            }
        }
    }
}
