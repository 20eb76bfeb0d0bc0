using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>Maintenance and cluster membership.</summary>
public sealed partial class EtcdClient
{
    /// <summary>Status of the member at <paramref name="endpoint"/> (or of the current endpoint): version, db size,
    /// leader id, raft indexes. Not failed over when an endpoint is given, since the caller asked for that member.</summary>
    /// <param name="endpoint">"host:port" of one member, or null for whichever endpoint answers.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The member's status; <c>Header.MemberId</c> identifies it.</returns>
    public async Task<StatusResponse> StatusAsync(string? endpoint = null, CancellationToken cancellationToken = default)
    {
        const string path = "/etcdserverpb.Maintenance/Status";
        if (endpoint is null)
        {
            return await CallAsync(path, new StatusRequest(), StatusResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false);
        }

        var target = new Internal.EndpointSet(endpoint).Current;
        using var budget = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token, budget.Token);
        var token = await GetTokenAsync(deadline.Token).ConfigureAwait(false);
        return await _transport.UnaryAsync(target, path, new StatusRequest(), StatusResponse.Parser, token, _options.RequestTimeout, deadline.Token)
            .ConfigureAwait(false);
    }

    /// <summary>Lists the cluster's members with their ids, names, peer and client URLs.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The member list.</returns>
    public Task<MemberListResponse> MemberListAsync(CancellationToken cancellationToken = default) =>
        CallAsync("/etcdserverpb.Cluster/MemberList", new MemberListRequest(), MemberListResponse.Parser, idempotent: true, cancellationToken);
}
