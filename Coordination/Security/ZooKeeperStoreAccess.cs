using ControlPlane.Contracts;
using ControlPlane.ZooKeeper;

namespace ControlPlane.Coordination.Security;

/// <summary>
/// ZooKeeper digest identities and per-node ACLs (<see cref="ZooKeeperAcls"/>). The session authenticates as the director
/// identity, which is also the administrator: ZooKeeper has no users, only ACLs naming digest ids. Agents are registered
/// under <c>identities/&lt;name&gt;</c> with their digest id; their rights are ACL entries on <c>workers</c> (CREATE),
/// <c>drains</c> (DELETE) and their assignments (READ|WRITE).
/// </summary>
internal sealed class ZooKeeperStoreAccess : StoreAccess
{
    // Bound of the tree walk of init: far above any store we run (jobs are retained, not kept forever).
    private const int MaxNodes = 2_000_000;
    private const int Window = 256;
    private readonly StoreAccessSettings _settings;
    private readonly ZooKeeperClient _client;
    private readonly string _rootPath;
    private readonly string _director;

    private ZooKeeperStoreAccess(StoreAccessSettings settings, ZooKeeperClient client)
    {
        _settings = settings;
        _client = client;
        _rootPath = "/" + settings.Store.EffectiveRoot;
        _director = ZooKeeperAcls.DigestId(settings.DirectorUser, settings.DirectorPassword!);
    }

    public static async Task<ZooKeeperStoreAccess> OpenAsync(StoreAccessSettings settings, CancellationToken cancellationToken)
    {
        ValidateName(settings.DirectorUser, "The director identity");
        ValidatePassword(settings.DirectorPassword ?? "", $"director identity '{settings.DirectorUser}'");
        var options = new ZooKeeperClientOptions
        {
            ConnectionString = settings.Store.EffectiveEndpoints,
            SessionTimeout = settings.Store.SessionTimeout,
            RequestTimeout = settings.Store.RequestTimeout,
        };
        options.AuthInfos.Add(ZooKeeperAuthInfo.Digest(settings.DirectorUser, settings.DirectorPassword!));
        try
        {
            return new ZooKeeperStoreAccess(settings, await ZooKeeperClient.ConnectAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false));
        }
        catch (ZooKeeperException ex)
        {
            throw new StoreException($"Could not open a ZooKeeper session at {settings.Store.EffectiveEndpoints}: {ex.Message}", ex);
        }
    }

    public override Task<IReadOnlyList<string>> InitAsync(string directorPassword, CancellationToken cancellationToken = default)
    {
        if (directorPassword != _settings.DirectorPassword)
        {
            throw new ArgumentException("ZooKeeper: init runs as the director identity; give its password once (the same as the session's).", nameof(directorPassword));
        }

        return ChangeAsync(async changes =>
        {
            // Above the root: created open if missing, as the stores do today (another root may live there).
            for (var slash = _rootPath.IndexOf('/', 1); slash > 0; slash = _rootPath.IndexOf('/', slash + 1))
            {
                await CreateIfMissingAsync(_rootPath[..slash], ZooKeeperAcl.OpenUnsafe, changes, cancellationToken).ConfigureAwait(false);
            }

            var agents = new Dictionary<string, string>(StringComparer.Ordinal);
            await CreateIfMissingAsync(_rootPath, ZooKeeperAcls.ForExisting("", _director, agents), changes, cancellationToken).ConfigureAwait(false);
            foreach (var directory in ZooKeeperAcls.Directories)
            {
                await CreateIfMissingAsync(PathOf(directory), ZooKeeperAcls.ForExisting(directory, _director, agents), changes, cancellationToken).ConfigureAwait(false);
            }

            agents = await LoadAgentsAsync(cancellationToken).ConfigureAwait(false);
            await ConvertAsync(_rootPath, agents, changes, cancellationToken).ConfigureAwait(false);
        });
    }

    protected override async Task AddAgentCoreAsync(string name, string password, List<string> changes, CancellationToken cancellationToken)
    {
        await RequireInitAsync(cancellationToken).ConfigureAwait(false);
        var digest = ZooKeeperAcls.DigestId(name, password);
        var path = PathOf(ZooKeeperAcls.Identities + "/" + name);
        var record = ZooKeeperAcls.WriteDigest(name, digest);
        var acl = ZooKeeperAcls.ForExisting(ZooKeeperAcls.Identities + "/" + name, _director, new Dictionary<string, string>());
        try
        {
            var current = await _client.GetDataAsync(path, cancellationToken).ConfigureAwait(false);
            if (ZooKeeperAcls.ReadDigest(current.Data) != digest)
            {
                await _client.SetDataAsync(path, record, current.Stat.Version, cancellationToken).ConfigureAwait(false);
                changes.Add($"set the digest of identity {name} (a new password)");
            }
        }
        catch (NoNodeException)
        {
            await _client.CreateAsync(path, record, acl: acl, cancellationToken: cancellationToken).ConfigureAwait(false);
            changes.Add($"registered identity {name} (identities/{name})");
        }

        await ApplyAgentAsync(name, changes, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task RemoveAgentCoreAsync(string name, List<string> changes, CancellationToken cancellationToken)
    {
        await RequireInitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _client.DeleteAsync(PathOf(ZooKeeperAcls.Identities + "/" + name), cancellationToken: cancellationToken).ConfigureAwait(false);
            changes.Add($"removed identity {name}");
        }
        catch (NoNodeException)
        {
            // Already gone.
        }

        await ApplyAgentAsync(name, changes, cancellationToken).ConfigureAwait(false);
    }

    public override ValueTask DisposeAsync() => _client.DisposeAsync();

    private string PathOf(string key) => key.Length == 0 ? _rootPath : _rootPath + "/" + key;

    private string KeyOf(string path) => path.Length > _rootPath.Length + 1 ? path[(_rootPath.Length + 1)..] : "";

    private async Task RequireInitAsync(CancellationToken cancellationToken)
    {
        if (await _client.ExistsAsync(PathOf(ZooKeeperAcls.Identities), cancellationToken).ConfigureAwait(false) is null)
        {
            throw new StoreException($"{PathOf(ZooKeeperAcls.Identities)} does not exist: run 'cpctl store init' first.");
        }
    }

    /// <summary>The rights that depend on agent <paramref name="name"/>: <c>workers</c>, <c>drains</c>, its registration and assignments.</summary>
    private async Task ApplyAgentAsync(string name, List<string> changes, CancellationToken cancellationToken)
    {
        var agents = await LoadAgentsAsync(cancellationToken).ConfigureAwait(false);
        await FixAsync(PathOf(StoreLayout.Workers), agents, changes, cancellationToken).ConfigureAwait(false);
        await FixAsync(PathOf(StoreLayout.Drains), agents, changes, cancellationToken).ConfigureAwait(false);
        await FixAsync(PathOf(StoreLayout.Worker(name)), agents, changes, cancellationToken).ConfigureAwait(false);
        if (await _client.ExistsAsync(PathOf(StoreLayout.WorkerAssignments(name)), cancellationToken).ConfigureAwait(false) is not null)
        {
            await ConvertAsync(PathOf(StoreLayout.WorkerAssignments(name)), agents, changes, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Dictionary<string, string>> LoadAgentsAsync(CancellationToken cancellationToken)
    {
        var agents = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = (await _client.GetChildrenAsync(PathOf(ZooKeeperAcls.Identities), cancellationToken).ConfigureAwait(false)).Children;
        foreach (var chunk in names.Chunk(Window))
        {
            var reads = chunk.Select(async n =>
            {
                try
                {
                    return (Name: n, Digest: ZooKeeperAcls.ReadDigest((await _client.GetDataAsync(PathOf(ZooKeeperAcls.Identities + "/" + n), cancellationToken).ConfigureAwait(false)).Data));
                }
                catch (NoNodeException)
                {
                    return (Name: n, Digest: (string?)null);
                }
            });
            foreach (var (n, digest) in await Task.WhenAll(reads).ConfigureAwait(false))
            {
                if (digest is not null)
                {
                    agents[n] = digest;
                }
            }
        }

        return agents;
    }

    /// <summary>Sets the ACL of every node of the subtree at <paramref name="top"/> that differs from its desired one,
    /// breadth first, <see cref="Window"/> nodes in flight, at most <see cref="MaxNodes"/> nodes.</summary>
    private async Task ConvertAsync(string top, IReadOnlyDictionary<string, string> agents, List<string> changes, CancellationToken cancellationToken)
    {
        var level = new List<string> { top };
        var visited = 0;
        while (level.Count > 0)
        {
            var next = new List<string>();
            foreach (var chunk in level.Chunk(Window))
            {
                visited += chunk.Length;
                if (visited > MaxNodes)
                {
                    throw new StoreException($"{top} holds more than {MaxNodes} nodes; init stops there (run it again to continue is not possible: remove old records first).");
                }

                var children = await Task.WhenAll(chunk.Select(async path =>
                {
                    await FixAsync(path, agents, changes, cancellationToken).ConfigureAwait(false);
                    try
                    {
                        return (await _client.GetChildrenAsync(path, cancellationToken).ConfigureAwait(false)).Children.Select(c => path + "/" + c);
                    }
                    catch (NoNodeException)
                    {
                        return [];
                    }
                })).ConfigureAwait(false);
                next.AddRange(children.SelectMany(c => c));
            }

            level = next;
        }
    }

    private async Task FixAsync(string path, IReadOnlyDictionary<string, string> agents, List<string> changes, CancellationToken cancellationToken)
    {
        AclResult current;
        try
        {
            current = await _client.GetAclAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
            return;
        }

        var key = KeyOf(path);
        var registrationOf = current.Stat.IsEphemeral && StoreKeys.Parent(key) == StoreLayout.Workers && agents.TryGetValue(StoreKeys.Name(key), out var d) ? d : null;
        var desired = ZooKeeperAcls.ForExisting(key, _director, agents, registrationOf);
        if (ZooKeeperAcls.Same(current.Acl, desired))
        {
            return;
        }

        try
        {
            await _client.SetAclAsync(path, desired, current.Stat.Aversion, cancellationToken).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
            return;
        }

        lock (changes)
        {
            changes.Add($"set the ACL of {(key.Length == 0 ? "/" + _settings.Store.EffectiveRoot : key)}: {Describe(desired)}");
        }
    }

    private async Task CreateIfMissingAsync(string path, IReadOnlyList<ZooKeeperAcl> acl, List<string> changes, CancellationToken cancellationToken)
    {
        if (await _client.ExistsAsync(path, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        try
        {
            await _client.CreateAsync(path, ReadOnlyMemory<byte>.Empty, acl: acl, cancellationToken: cancellationToken).ConfigureAwait(false);
            changes.Add($"created {path}");
        }
        catch (NodeExistsException)
        {
            // Made meanwhile.
        }
    }

    /// <summary>As zkCli.sh's getAcl prints it, with digest ids shortened to their names.</summary>
    private static string Describe(IReadOnlyList<ZooKeeperAcl> acl) => string.Join(", ", acl.Select(a =>
        $"{a.Scheme}:{(a.Scheme == "digest" ? a.Id[..a.Id.IndexOf(':', StringComparison.Ordinal)] : a.Id)}={Letters(a.Permissions)}"));

    private static string Letters(Permissions p) => string.Concat(
        p.HasFlag(Permissions.Create) ? "c" : "", p.HasFlag(Permissions.Delete) ? "d" : "", p.HasFlag(Permissions.Read) ? "r" : "",
        p.HasFlag(Permissions.Write) ? "w" : "", p.HasFlag(Permissions.Admin) ? "a" : "");

    protected override StoreException? Refused(Exception error, IReadOnlyList<string> changes) => error is ZooKeeperException ex
        ? new StoreException(
            $"ZooKeeper at {_settings.Store.EffectiveEndpoints} refused a change: {ex.Message}" +
            (ex is NoAuthException ? $" (identity '{_settings.DirectorUser}' lacks ADMIN or CREATE there: a node made by another identity? Wrong director password?)" : "") +
            (changes.Count > 0 ? $"; done before it: {string.Join("; ", changes)} (run the command again)" : ""), ex)
        : null;
}
