using ControlPlane.ZooKeeper.Internal;

namespace ControlPlane.ZooKeeper;

public sealed partial class ZooKeeperClient
{
    /// <summary>The marker that starts every protected node name: <c>_c_&lt;guid&gt;-</c> (Curator's format, so
    /// tools that know it recognise our nodes).</summary>
    public const string ProtectedPrefix = "_c_";

    /// <summary>Creates an ephemeral-sequential node safely across connection loss: the name carries a unique
    /// <c>_c_&lt;guid&gt;-</c> marker, so when the reply is lost the client lists the parent after reconnecting
    /// and adopts the node it already created instead of leaving an orphan and creating a second one.</summary>
    /// <param name="path">Parent and name prefix, e.g. <c>/election/n-</c> → <c>/election/_c_&lt;guid&gt;-n-0000000007</c>.</param>
    /// <param name="data">The node's data.</param>
    /// <param name="acl">The ACL; <see cref="ZooKeeperAcl.OpenUnsafe"/> when null.</param>
    /// <param name="cancellationToken">Cancels waiting (a node created meanwhile lives until the session ends).</param>
    /// <exception cref="SessionExpiredException">The session expired: any node it created is gone with it.</exception>
    public async Task<CreateResult> CreateProtectedEphemeralSequentialAsync(
        string path, ReadOnlyMemory<byte> data, IReadOnlyList<ZooKeeperAcl>? acl = null, CancellationToken cancellationToken = default)
    {
        PathValidation.Validate(path, nameof(path), sequential: true);
        var parent = PathValidation.Parent(path);
        var marker = ProtectedPrefix + Guid.NewGuid().ToString("N") + "-";
        var protectedPath = (parent == "/" ? "/" : parent + "/") + marker + path[(path.LastIndexOf('/') + 1)..];

        // Bounded: each round either succeeds, adopts, or saw a connection loss; a session survives only a
        // few of those before it expires, which ends the loop with SessionExpiredException.
        const int MaxAttempts = 10;
        var lostReply = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (lostReply)
                {
                    var adopted = await FindProtectedAsync(parent, marker, cancellationToken).ConfigureAwait(false);
                    if (adopted is not null)
                    {
                        Log.ProtectedCreateAdopted(_logger, adopted.Path);
                        return adopted;
                    }
                }

                return await CreateAsync(protectedPath, data, CreateMode.EphemeralSequential, acl, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ConnectionLossException) when (attempt < MaxAttempts)
            {
                // The create may have been applied with its reply lost: look for it once reconnected.
                lostReply = true;
                await WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<CreateResult?> FindProtectedAsync(string parent, string marker, CancellationToken cancellationToken)
    {
        var children = await GetChildrenAsync(parent, cancellationToken).ConfigureAwait(false);
        foreach (var child in children.Children)
        {
            if (!child.StartsWith(marker, StringComparison.Ordinal))
                continue;
            var childPath = (parent == "/" ? "/" : parent + "/") + child;
            var stat = await ExistsAsync(childPath, cancellationToken).ConfigureAwait(false);
            if (stat is not null)
                return new CreateResult(childPath, stat);
        }

        return null;
    }
}
