using System.Collections.Concurrent;
using ControlPlane.Coordination.Security;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.ZooKeeper;

/// <summary>Least privilege (docs/operations.md, "Identities and permissions"): with a <see cref="ZooKeeperStoreOptions.Username"/>
/// the session authenticates by digest and creates nodes with <see cref="ZooKeeperAcls"/>; an assignment also grants its
/// agent READ|WRITE, from the agent's digest id registered under <c>identities/</c> (cached for 30 s).</summary>
public sealed partial class ZooKeeperCoordinationStore
{
    private static readonly TimeSpan IdentityCacheTtl = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (string? Digest, long At)> _identities = new(StringComparer.Ordinal);

    private bool Secure => _options.Username is not null;

    private IReadOnlyList<ZooKeeperAcl>? DirectoryAcl => Secure ? [ZooKeeperAcls.CreatorAll, ZooKeeperAcls.WorldRead] : null;

    /// <summary>The digest ids of the agents whose assignments <paramref name="transaction"/> creates (null: not registered).
    /// Cost: nothing for agents read in the last 30 s; the others (at most one per assignment, ≤ 31 in a batch) are read
    /// all at once, pipelined on the session, so a placement waits one round trip, not one per agent.</summary>
    private async Task<Dictionary<string, string?>?> ResolveAgentsAsync(ZooKeeperClient client, Transaction transaction, CancellationToken cancellationToken)
    {
        if (!Secure)
        {
            return null;
        }

        Dictionary<string, string?>? found = null;
        List<string>? unknown = null;
        foreach (var operation in transaction.Operations)
        {
            if (operation.Kind != OperationKind.Create || ZooKeeperAcls.AssignmentWorker(operation.Key) is not { } worker || (found?.ContainsKey(worker) ?? false))
            {
                continue;
            }

            found ??= new Dictionary<string, string?>(StringComparer.Ordinal);
            if (_identities.TryGetValue(worker, out var cached) && _time.GetElapsedTime(cached.At) < IdentityCacheTtl)
            {
                found[worker] = cached.Digest;
            }
            else
            {
                found[worker] = null;
                (unknown ??= []).Add(worker);
            }
        }

        if (unknown is not null)
        {
            var digests = await Task.WhenAll(unknown.Select(worker => ReadIdentityAsync(client, worker, cancellationToken))).ConfigureAwait(false);
            var at = _time.GetTimestamp();
            for (var i = 0; i < unknown.Count; i++)
            {
                _identities[unknown[i]] = (digests[i], at);
                found![unknown[i]] = digests[i];
            }
        }

        return found;
    }

    /// <summary>The digest id registered for <paramref name="worker"/>, or null when it has none.</summary>
    private async Task<string?> ReadIdentityAsync(ZooKeeperClient client, string worker, CancellationToken cancellationToken)
    {
        try
        {
            var data = await client.GetDataAsync(PathOf(ZooKeeperAcls.Identities + "/" + worker), cancellationToken).ConfigureAwait(false);
            return ZooKeeperAcls.ReadDigest(data.Data);
        }
        catch (NoNodeException)
        {
            // Not registered: the assignment is the directors' alone, and the agent's reports are refused (NoAuth).
            return null;
        }
        catch (ZooKeeperException ex)
        {
            throw Translate(ex, write: false, $"reading the identity of {worker}");
        }
    }

    private IReadOnlyList<ZooKeeperAcl>? CreateAcl(Operation operation, IReadOnlyDictionary<string, string?>? agents) =>
        !Secure ? null
        : ZooKeeperAcls.ForCreate(operation.Key, operation.Ephemeral,
            ZooKeeperAcls.AssignmentWorker(operation.Key) is { } worker && agents is not null ? agents.GetValueOrDefault(worker) : null);

    /// <summary>A multi refused with NoAuth: names the identity, the node and the right it lacks.</summary>
    private StorePermissionException Refused(MultiOperationException failed, IReadOnlyList<ZooKeeperOperation> ops)
    {
        var op = ops[failed.FailedIndex];
        var parent = op.Path[..Math.Max(op.Path.LastIndexOf('/'), 1)];
        var (right, on) = op switch
        {
            CreateOperation => ("CREATE", parent),
            DeleteOperation => ("DELETE", parent),
            SetDataOperation => ("WRITE", op.Path),
            _ => ("READ", op.Path),
        };
        return new StorePermissionException(
            $"ZooKeeper refused a commit to identity '{_options.Username ?? "(none)"}': NoAuth, it needs {right} on {on} " +
            $"({op.GetType().Name.Replace("Operation", "", StringComparison.Ordinal).ToLowerInvariant()} {KeyOf(op.Path)}; docs/operations.md, \"Identities and permissions\")", failed)
        { Keys = [KeyOf(op.Path)] };
    }
}

/// <summary>Adds the store's digest auth to a client's options.</summary>
internal static class ZooKeeperClientOptionsAuth
{
    public static ZooKeeperClientOptions WithAuth(this ZooKeeperClientOptions options, ZooKeeperStoreOptions store)
    {
        if (store.Username is { } user)
        {
            options.AuthInfos.Add(ZooKeeperAuthInfo.Digest(user, store.Password ?? ""));
        }

        return options;
    }
}
