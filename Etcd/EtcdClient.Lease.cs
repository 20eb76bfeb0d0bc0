using ControlPlane.Etcd.Internal;
using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>Leases: grant, keepalive, revoke, time-to-live.</summary>
public sealed partial class EtcdClient
{
    /// <summary>
    /// Grants a lease and, unless <paramref name="keepAlive"/> is false, keeps it alive every TTL/3 until it is
    /// revoked, lost or the client is disposed. Watch <see cref="EtcdLease.State"/> / <see cref="EtcdLease.Lost"/>.
    /// </summary>
    /// <param name="ttl">Requested TTL, whole seconds; etcd enforces a minimum (about 2 s by default) and may grant more.</param>
    /// <param name="keepAlive">Renew the lease automatically.</param>
    /// <param name="cancellationToken">Cancels the grant call.</param>
    /// <returns>The lease.</returns>
    public async Task<EtcdLease> GrantLeaseAsync(TimeSpan ttl, bool keepAlive = true, CancellationToken cancellationToken = default)
    {
        var seconds = (long)Math.Ceiling(ttl.TotalSeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 1, nameof(ttl));
        var sent = MonotonicNow;
        var response = await CallAsync("/etcdserverpb.Lease/LeaseGrant", new LeaseGrantRequest { TTL = seconds },
            LeaseGrantResponse.Parser, idempotent: false, cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(response.Error))
        {
            throw new EtcdException(GrpcStatusCode.FailedPrecondition, $"lease grant failed: {response.Error}");
        }

        Log.LeaseGranted(_logger, response.ID, response.TTL);
        var lease = new EtcdLease(response.ID, response.TTL, sent + TimeSpan.FromSeconds(response.TTL), () => MonotonicNow);
        if (keepAlive)
        {
            _leases.Add(lease);
        }

        return lease;
    }

    /// <summary>Revokes a lease: its keys are deleted at once. Stops keeping it alive.</summary>
    /// <param name="lease">The lease.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response header.</returns>
    /// <exception cref="EtcdException">NotFound if the lease no longer exists.</exception>
    public async Task<LeaseRevokeResponse> RevokeLeaseAsync(EtcdLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        _leases.Remove(lease.Id);
        lease.MarkEnded(EtcdLeaseState.Revoked);
        return await RevokeLeaseAsync(lease.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Revokes a lease by id (keys attached to it are deleted).</summary>
    /// <param name="leaseId">The lease id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response header.</returns>
    public Task<LeaseRevokeResponse> RevokeLeaseAsync(long leaseId, CancellationToken cancellationToken = default)
    {
        _leases.Remove(leaseId);
        return CallAsync("/etcdserverpb.Lease/LeaseRevoke", new LeaseRevokeRequest { ID = leaseId },
            LeaseRevokeResponse.Parser, idempotent: false, cancellationToken);
    }

    /// <summary>The remaining and granted TTL of a lease (TTL -1 when it has expired or does not exist).</summary>
    /// <param name="leaseId">The lease id.</param>
    /// <param name="keys">Also list the keys attached to it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease's TTL information.</returns>
    public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long leaseId, bool keys = false, CancellationToken cancellationToken = default) =>
        CallAsync("/etcdserverpb.Lease/LeaseTimeToLive", new LeaseTimeToLiveRequest { ID = leaseId, Keys = keys },
            LeaseTimeToLiveResponse.Parser, idempotent: true, cancellationToken);
}
