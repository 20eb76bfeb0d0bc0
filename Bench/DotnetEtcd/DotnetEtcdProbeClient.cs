using ControlPlane.Bench.Probes;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace ControlPlane.Bench.DotnetEtcd;

/// <summary>
/// dotnet-etcd in the probes, used as its README and API show: <c>LeaseKeepAlive(leaseId, token)</c> for the
/// lease, the watch manager's <c>WatchAsync(WatchRequest, Action&lt;WatchResponse&gt;)</c> (every response,
/// cancellations included, reaches the callback), <c>PutAsync</c> and <c>TransactionAsync</c> with the default
/// channel (whose service config retries every method on Unavailable).
/// </summary>
internal sealed class DotnetEtcdProbeClient(string endpoints) : IEtcdProbeClient
{
    private readonly EtcdClient _client = new(string.Join(',', endpoints.Split(',').Select(e => "http://" + e)));
    private readonly CancellationTokenSource _stop = new();
    private Task? _keepAlive;

    public string KeepAliveStatus => _keepAlive switch
    {
        null => "no lease",
        { IsFaulted: true } t => "keep-alive task faulted: " + t.Exception!.InnerException!.GetType().Name + ": " + t.Exception.InnerException.Message,
        { IsCompleted: true } t => "keep-alive task ended: " + t.Status,
        _ => "keep-alive task running",
    };

    public static async Task<int> RunProbesAsync(string[] args)
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

        var failed = await EtcdProbes.RunAsync("dotnet-etcd", endpoints => new DotnetEtcdProbeClient(endpoints), only, CancellationToken.None)
            .ConfigureAwait(false);
        return failed == 0 ? 0 : 1;
    }

    public async Task<long> GrantKeptAliveLeaseAsync(int ttlSeconds, CancellationToken cancellationToken)
    {
        var lease = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        _keepAlive = _client.LeaseKeepAlive(lease.ID, _stop.Token);
        return lease.ID;
    }

    public Task PutAsync(string key, string value, long leaseId, CancellationToken cancellationToken) =>
        _client.PutAsync(
            new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = leaseId },
            cancellationToken: cancellationToken);

    public Task TxnPutAsync(string key, string value, CancellationToken cancellationToken) =>
        _client.TransactionAsync(
            new TxnRequest
            {
                Success = { new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } } },
            },
            cancellationToken: cancellationToken);

    public async Task WatchPrefixAsync(string prefix, long startRevision, WatchObservation observation, CancellationToken cancellationToken)
    {
        void OnResponse(WatchResponse response)
        {
            foreach (var e in response.Events)
            {
                observation.Event(e.Kv.ModRevision);
            }

            if (response.Canceled)
            {
                observation.Error($"watch response canceled=true compact_revision={response.CompactRevision} reason='{response.CancelReason}'");
            }
        }

        var request = new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(prefix),
                RangeEnd = ByteString.CopyFromUtf8(EtcdClient.GetRangeEnd(prefix)),
                StartRevision = startRevision,
            },
        };
        await _client.WatchAsync(request, (Action<WatchResponse>)OnResponse, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_keepAlive is not null)
        {
            // Its fault, if any, is what KeepAliveStatus reported.
            await _keepAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _client.Dispose();
        _stop.Dispose();
    }
}
