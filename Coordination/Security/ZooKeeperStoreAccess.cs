namespace ControlPlane.Coordination.Security;

/// <summary>ZooKeeper digest identities and per-node ACLs.</summary>
internal sealed class ZooKeeperStoreAccess : StoreAccess
{
    public static Task<ZooKeeperStoreAccess> OpenAsync(StoreAccessSettings settings, CancellationToken cancellationToken) =>
        throw new NotSupportedException("ZooKeeper access control is not set up by this version; see docs/operations.md.");

    public override Task<IReadOnlyList<string>> InitAsync(string directorPassword, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public override Task<IReadOnlyList<string>> AddAgentAsync(string name, string password, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public override Task<IReadOnlyList<string>> RemoveAgentAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
