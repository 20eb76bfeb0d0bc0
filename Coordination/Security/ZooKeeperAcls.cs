using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.Security;

/// <summary>
/// The ACLs of least privilege on ZooKeeper (docs/operations.md, "Identities and permissions"): every node
/// <c>[director: ALL, world: READ]</c>; <c>workers</c> also CREATE for each registered agent; <c>drains</c> also DELETE
/// for each registered agent; an assignment also READ|WRITE for its agent; an agent's registration
/// <c>[the agent: ALL, world: READ]</c>. Agents' digest ids are registered under <c>identities/&lt;name&gt;</c>.
/// </summary>
public static class ZooKeeperAcls
{
    /// <summary>The registry of agent identities: <c>identities/&lt;name&gt;</c> holds <see cref="IdentityRecord"/>.</summary>
    public const string Identities = "identities";

    /// <summary>The directories that exist from <c>cpctl store init</c> on, so no agent ever needs to create one.</summary>
    public static readonly IReadOnlyList<string> Directories =
    [
        "meta", "directors", StoreLayout.Election, StoreLayout.Directors, StoreLayout.Workers, StoreLayout.Drains, StoreLayout.Suspects,
        StoreLayout.Jobs, StoreLayout.Assignments, StoreLayout.Idempotency, "status", StoreLayout.Schedules, StoreLayout.Workflows,
        StoreLayout.Concurrency, Identities,
    ];

    /// <summary>Read for everyone: agents read the records they need (and may read the rest, like on etcd).</summary>
    public static readonly ZooKeeperAcl WorldRead = new(Permissions.Read, "world", "anyone");

    /// <summary>Everything for the identity the creating session authenticated with.</summary>
    public static readonly ZooKeeperAcl CreatorAll = new(Permissions.All, "auth", "");

    /// <summary>The digest id <c>name:base64(sha1(name:password))</c> ZooKeeper compares digest auth against.</summary>
    public static string DigestId(string name, string password) => ZooKeeperAcl.Digest(Permissions.All, name, password).Id;

    /// <summary>The ACL a node of <paramref name="key"/> is created with by an authenticated session.</summary>
    /// <param name="key">The key, relative to the root.</param>
    /// <param name="ephemeral">An ephemeral create (an agent's registration, a director's election or member key).</param>
    /// <param name="agentDigest">For an assignment: its agent's digest id, when registered.</param>
    public static IReadOnlyList<ZooKeeperAcl> ForCreate(string key, bool ephemeral, string? agentDigest)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (agentDigest is not null && IsAssignment(key))
        {
            return [CreatorAll, WorldRead, new ZooKeeperAcl(Permissions.Read | Permissions.Write, "digest", agentDigest)];
        }

        _ = ephemeral;
        return [CreatorAll, WorldRead];
    }

    /// <summary>The worker an assignment key <c>assignments/&lt;w&gt;/&lt;job&gt;.&lt;attempt&gt;</c> belongs to, else null.</summary>
    public static string? AssignmentWorker(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return IsAssignment(key) ? key.Split('/')[1] : null;
    }

    private static bool IsAssignment(string key) =>
        key.StartsWith(StoreLayout.Assignments + "/", StringComparison.Ordinal) && key.Count(c => c == '/') == 2;

    /// <summary>The ACL <c>cpctl store init</c> gives an existing node, from the director's digest id and the registered agents.</summary>
    /// <param name="key">The key, relative to the root ("" for the root).</param>
    /// <param name="director">The director's digest id.</param>
    /// <param name="agents">Registered agents: name → digest id.</param>
    /// <param name="ephemeralOwnerIsAgent">For an ephemeral registration <c>workers/&lt;name&gt;</c>: that agent's digest, or null.</param>
    public static IReadOnlyList<ZooKeeperAcl> ForExisting(string key, string director, IReadOnlyDictionary<string, string> agents, string? ephemeralOwnerIsAgent = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(agents);
        var directorAll = new ZooKeeperAcl(Permissions.All, "digest", director);
        List<ZooKeeperAcl> acl = [directorAll, WorldRead];
        if (key == Identities || key.StartsWith(Identities + "/", StringComparison.Ordinal))
        {
            // Digest ids are hashes of passwords: only the directors read them.
            acl = [directorAll];
        }
        else if (key == StoreLayout.Workers)
        {
            acl.AddRange(agents.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new ZooKeeperAcl(Permissions.Create, "digest", a.Value)));
        }
        else if (key == StoreLayout.Drains)
        {
            acl.AddRange(agents.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new ZooKeeperAcl(Permissions.Delete, "digest", a.Value)));
        }
        else if (AssignmentWorker(key) is { } worker && agents.TryGetValue(worker, out var digest))
        {
            acl.Add(new ZooKeeperAcl(Permissions.Read | Permissions.Write, "digest", digest));
        }
        else if (ephemeralOwnerIsAgent is not null)
        {
            acl = [new ZooKeeperAcl(Permissions.All, "digest", ephemeralOwnerIsAgent), directorAll, WorldRead];
        }

        return acl;
    }

    /// <summary>True when two ACLs grant the same (order ignored).</summary>
    public static bool Same(IReadOnlyList<ZooKeeperAcl> a, IReadOnlyList<ZooKeeperAcl> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Count == b.Count && a.ToHashSet().SetEquals(b);
    }

    /// <summary>Reads an identity record's digest id, or null when it is not one.</summary>
    public static string? ReadDigest(ReadOnlySpan<byte> value)
    {
        try
        {
            return JsonSerializer.Deserialize<IdentityRecord>(value, JsonOptions)?.Digest;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The bytes of an identity record.</summary>
    public static byte[] WriteDigest(string name, string digest) =>
        JsonSerializer.SerializeToUtf8Bytes(new IdentityRecord { Schema = 1, Name = name, Digest = digest }, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary><c>identities/&lt;name&gt;</c>: an agent's digest id (never its password), written by <c>cpctl store</c>.</summary>
    public sealed class IdentityRecord
    {
        /// <summary>Record schema, 1.</summary>
        public int Schema { get; init; } = 1;

        /// <summary>The agent's name (its worker id).</summary>
        public string? Name { get; init; }

        /// <summary><c>name:base64(sha1(name:password))</c>.</summary>
        public string? Digest { get; init; }
    }
}
