using ControlPlane.Contracts;
using ControlPlane.Etcd;
using ControlPlane.Etcd.Rpc;
using Google.Protobuf;

namespace ControlPlane.Coordination.Security;

/// <summary>
/// etcd users and roles. Role <c>cp-director:&lt;root&gt;</c>: readwrite on the root prefix. Role
/// <c>cp-agent:&lt;root&gt;:&lt;name&gt;</c>: read on the root prefix, readwrite on <c>workers/&lt;name&gt;</c>,
/// <c>drains/&lt;name&gt;</c> and the prefix <c>assignments/&lt;name&gt;/</c>. Auth is enabled with a <c>root</c> user.
/// </summary>
internal sealed class EtcdStoreAccess : StoreAccess
{
    private const string RootRole = "root";
    private readonly StoreAccessSettings _settings;
    private readonly string _prefix;
    private EtcdClient _client;
    private bool _authEnabled;

    private EtcdStoreAccess(StoreAccessSettings settings, EtcdClient client, bool authEnabled)
    {
        _settings = settings;
        _client = client;
        _authEnabled = authEnabled;
        _prefix = "/" + settings.Store.EffectiveRoot + "/";
    }

    /// <summary>The role of the directors of <paramref name="root"/>.</summary>
    public static string DirectorRole(string root) => $"cp-director:{root}";

    /// <summary>The role of agent <paramref name="name"/> under <paramref name="root"/>.</summary>
    public static string AgentRole(string root, string name) => $"cp-agent:{root}:{name}";

    public static async Task<EtcdStoreAccess> OpenAsync(StoreAccessSettings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(settings.AdminPassword))
        {
            throw new ArgumentException($"etcd needs the password of its administrator '{settings.AdminUser}' (auth is enabled with it, or already was).", nameof(settings));
        }

        var client = Client(settings, settings.AdminUser, settings.AdminPassword);
        try
        {
            await client.UserListAsync(cancellationToken).ConfigureAwait(false);
            return new EtcdStoreAccess(settings, client, authEnabled: true);
        }
        catch (EtcdException ex) when (ex.Message.Contains("authentication is not enabled", StringComparison.Ordinal))
        {
            // Auth is still off: manage users and roles anonymously, then turn it on at the end of InitAsync.
            await client.DisposeAsync().ConfigureAwait(false);
            return new EtcdStoreAccess(settings, Client(settings, null, null), authEnabled: false);
        }
        catch (EtcdException ex)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw new StoreException($"etcd at {settings.Store.EffectiveEndpoints} refused administrator '{settings.AdminUser}': {ex.Message}" +
                (ex.StatusCode == GrpcStatusCode.PermissionDenied ? " (the administrator needs the root role)" : ""), ex);
        }
    }

    public override Task<IReadOnlyList<string>> InitAsync(string directorPassword, CancellationToken cancellationToken = default)
    {
        ValidateName(_settings.DirectorUser, "The director identity");
        ValidatePassword(directorPassword, $"director identity '{_settings.DirectorUser}'");
        return ChangeAsync(async changes =>
        {
            if (!_authEnabled)
            {
                await EnsureUserAsync(_settings.AdminUser, _settings.AdminPassword!, changes, cancellationToken).ConfigureAwait(false);
                await EnsureUserRoleAsync(_settings.AdminUser, RootRole, changes, cancellationToken).ConfigureAwait(false);
            }

            var role = DirectorRole(_settings.Store.EffectiveRoot);
            await EnsureRoleAsync(role, [Range(Permission.Types.Type.Readwrite, _prefix)], changes, cancellationToken).ConfigureAwait(false);
            await EnsureUserAsync(_settings.DirectorUser, directorPassword, changes, cancellationToken).ConfigureAwait(false);
            await EnsureUserRoleAsync(_settings.DirectorUser, role, changes, cancellationToken).ConfigureAwait(false);
            if (!_authEnabled)
            {
                await _client.AuthEnableAsync(cancellationToken).ConfigureAwait(false);
                changes.Add("enabled authentication");
                await _client.DisposeAsync().ConfigureAwait(false);
                _client = Client(_settings, _settings.AdminUser, _settings.AdminPassword);
                _authEnabled = true;
            }
        });
    }

    protected override async Task AddAgentCoreAsync(string name, string password, List<string> changes, CancellationToken cancellationToken)
    {
        var role = AgentRole(_settings.Store.EffectiveRoot, name);
        await EnsureRoleAsync(role,
        [
            Range(Permission.Types.Type.Read, _prefix),
            Key(Permission.Types.Type.Readwrite, _prefix + StoreLayout.Worker(name)),
            Key(Permission.Types.Type.Readwrite, _prefix + StoreLayout.Drain(name)),
            Range(Permission.Types.Type.Readwrite, _prefix + StoreLayout.WorkerAssignments(name) + "/"),
        ], changes, cancellationToken).ConfigureAwait(false);
        await EnsureUserAsync(name, password, changes, cancellationToken).ConfigureAwait(false);
        await EnsureUserRoleAsync(name, role, changes, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task RemoveAgentCoreAsync(string name, List<string> changes, CancellationToken cancellationToken)
    {
        var role = AgentRole(_settings.Store.EffectiveRoot, name);
        if (await _client.RoleGetAsync(role, cancellationToken).ConfigureAwait(false) is not null)
        {
            await _client.RoleDeleteAsync(role, cancellationToken).ConfigureAwait(false);
            changes.Add($"deleted role {role}");
        }

        // The user may hold roles of agents under other roots of the same cluster: deleted only once it holds none.
        if (await _client.UserGetAsync(name, cancellationToken).ConfigureAwait(false) is { Count: 0 })
        {
            await _client.UserDeleteAsync(name, cancellationToken).ConfigureAwait(false);
            changes.Add($"deleted user {name}");
        }
    }

    public override ValueTask DisposeAsync() => _client.DisposeAsync();

    private static EtcdClient Client(StoreAccessSettings settings, string? user, string? password) => new(new EtcdClientOptions
    {
        Endpoints = settings.Store.EffectiveEndpoints,
        Username = user,
        Password = password,
        RequestTimeout = settings.Store.RequestTimeout,
    });

    private static Permission Range(Permission.Types.Type type, string prefix) =>
        new() { PermType = type, Key = ByteString.CopyFromUtf8(prefix), RangeEnd = EtcdKeys.PrefixEnd(prefix) };

    private static Permission Key(Permission.Types.Type type, string key) =>
        new() { PermType = type, Key = ByteString.CopyFromUtf8(key) };

    private static string Describe(Permission p) =>
        $"{p.PermType.ToString().ToLowerInvariant()} {(p.RangeEnd.IsEmpty ? p.Key.ToStringUtf8() : $"[{p.Key.ToStringUtf8()}, {p.RangeEnd.ToStringUtf8()})")}";

    private async Task EnsureRoleAsync(string role, Permission[] wanted, List<string> changes, CancellationToken cancellationToken)
    {
        var have = await _client.RoleGetAsync(role, cancellationToken).ConfigureAwait(false);
        if (have is null)
        {
            await _client.RoleAddAsync(role, cancellationToken).ConfigureAwait(false);
            changes.Add($"added role {role}");
            have = [];
        }

        foreach (var extra in have.Where(h => !wanted.Any(w => SameRange(w, h))))
        {
            await _client.RoleRevokePermissionAsync(role, extra, cancellationToken).ConfigureAwait(false);
            changes.Add($"revoked {Describe(extra)} from role {role}");
        }

        foreach (var permission in wanted.Where(w => !have.Any(h => SameRange(w, h) && h.PermType == w.PermType)))
        {
            await _client.RoleGrantPermissionAsync(role, permission, cancellationToken).ConfigureAwait(false);
            changes.Add($"granted {Describe(permission)} to role {role}");
        }
    }

    private static bool SameRange(Permission a, Permission b) => a.Key == b.Key && a.RangeEnd == b.RangeEnd;

    private async Task EnsureUserAsync(string user, string password, List<string> changes, CancellationToken cancellationToken)
    {
        if (await _client.UserGetAsync(user, cancellationToken).ConfigureAwait(false) is null)
        {
            await _client.UserAddAsync(user, password, cancellationToken).ConfigureAwait(false);
            changes.Add($"added user {user}");
            return;
        }

        if (_authEnabled && await HasPasswordAsync(user, password, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // With auth off etcd cannot check a password: the given one is set (only the first run sees auth off).
        await _client.UserChangePasswordAsync(user, password, cancellationToken).ConfigureAwait(false);
        changes.Add($"set the password of user {user}");
    }

    private async Task<bool> HasPasswordAsync(string user, string password, CancellationToken cancellationToken)
    {
        await using var probe = Client(_settings, user, password);
        try
        {
            await probe.AuthenticateAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (EtcdException ex) when (ex.StatusCode == GrpcStatusCode.InvalidArgument && ex.Message.Contains("authentication failed", StringComparison.Ordinal))
        {
            return false;
        }
    }

    private async Task EnsureUserRoleAsync(string user, string role, List<string> changes, CancellationToken cancellationToken)
    {
        var roles = await _client.UserGetAsync(user, cancellationToken).ConfigureAwait(false) ?? [];
        if (!roles.Contains(role))
        {
            await _client.UserGrantRoleAsync(user, role, cancellationToken).ConfigureAwait(false);
            changes.Add($"granted role {role} to user {user}");
        }
    }

    protected override StoreException? Refused(Exception error, IReadOnlyList<string> changes) => error is EtcdException ex
        ? new StoreException(
            $"etcd at {_settings.Store.EffectiveEndpoints} refused a change: {ex.Message}" +
            (ex.StatusCode == GrpcStatusCode.PermissionDenied ? $" ('{_settings.AdminUser}' needs the root role)" : "") +
            (changes.Count > 0 ? $"; done before it: {string.Join("; ", changes)} (run the command again)" : ""), ex)
        : null;
}
