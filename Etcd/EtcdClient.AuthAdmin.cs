using ControlPlane.Etcd.Rpc;

namespace ControlPlane.Etcd;

/// <summary>
/// Auth administration (etcd's Auth service): users, roles, key-range permissions and turning auth on. Once auth is
/// enabled every call here needs a user with the <c>root</c> role. Errors come as etcd reports them, e.g.
/// FailedPrecondition "etcdserver: user name not found" or "etcdserver: role name already exists".
/// None of these calls is retried after a lost answer: read the state again (UserGet, RoleGet) instead.
/// </summary>
public sealed partial class EtcdClient
{
    private const string AuthService = "/etcdserverpb.Auth/";

    /// <summary>Turns authentication on. etcd refuses unless a user <c>root</c> with the <c>root</c> role exists;
    /// enabling it again is a no-op.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task AuthEnableAsync(CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "AuthEnable", new AuthEnableRequest(), AuthEnableResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>Adds a user with a password.</summary>
    /// <param name="name">User name.</param>
    /// <param name="password">Its password (sent to etcd only).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task UserAddAsync(string name, string password, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "UserAdd", new AuthUserAddRequest { Name = name, Password = password }, AuthUserAddResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>The roles of a user, or null when there is no such user.</summary>
    /// <param name="name">User name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Its role names, or null.</returns>
    public async Task<IReadOnlyList<string>?> UserGetAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await CallAsync(AuthService + "UserGet", new AuthUserGetRequest { Name = name }, AuthUserGetResponse.Parser, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
            return [.. response.Roles];
        }
        catch (EtcdException ex) when (ex.StatusCode == GrpcStatusCode.FailedPrecondition && ex.Message.Contains("user name not found", StringComparison.Ordinal))
        {
            return null;
        }
    }

    /// <summary>Every user name.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The names.</returns>
    public async Task<IReadOnlyList<string>> UserListAsync(CancellationToken cancellationToken = default) =>
        [.. (await CallAsync(AuthService + "UserList", new AuthUserListRequest(), AuthUserListResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false)).Users];

    /// <summary>Deletes a user.</summary>
    /// <param name="name">User name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task UserDeleteAsync(string name, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "UserDelete", new AuthUserDeleteRequest { Name = name }, AuthUserDeleteResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>Sets a user's password.</summary>
    /// <param name="name">User name.</param>
    /// <param name="password">The new password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task UserChangePasswordAsync(string name, string password, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "UserChangePassword", new AuthUserChangePasswordRequest { Name = name, Password = password },
            AuthUserChangePasswordResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>Grants a role to a user.</summary>
    /// <param name="user">User name.</param>
    /// <param name="role">Role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task UserGrantRoleAsync(string user, string role, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "UserGrantRole", new AuthUserGrantRoleRequest { User = user, Role = role }, AuthUserGrantRoleResponse.Parser, idempotent: true, cancellationToken);

    /// <summary>Adds a role (with no permissions).</summary>
    /// <param name="name">Role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task RoleAddAsync(string name, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "RoleAdd", new AuthRoleAddRequest { Name = name }, AuthRoleAddResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>The permissions of a role, or null when there is no such role.</summary>
    /// <param name="name">Role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Its permissions, or null.</returns>
    public async Task<IReadOnlyList<Permission>?> RoleGetAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await CallAsync(AuthService + "RoleGet", new AuthRoleGetRequest { Role = name }, AuthRoleGetResponse.Parser, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
            return [.. response.Perm];
        }
        catch (EtcdException ex) when (ex.StatusCode == GrpcStatusCode.FailedPrecondition && ex.Message.Contains("role name not found", StringComparison.Ordinal))
        {
            return null;
        }
    }

    /// <summary>Every role name.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The names.</returns>
    public async Task<IReadOnlyList<string>> RoleListAsync(CancellationToken cancellationToken = default) =>
        [.. (await CallAsync(AuthService + "RoleList", new AuthRoleListRequest(), AuthRoleListResponse.Parser, idempotent: true, cancellationToken).ConfigureAwait(false)).Roles];

    /// <summary>Deletes a role (users lose it).</summary>
    /// <param name="name">Role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task RoleDeleteAsync(string name, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "RoleDelete", new AuthRoleDeleteRequest { Role = name }, AuthRoleDeleteResponse.Parser, idempotent: false, cancellationToken);

    /// <summary>Grants a key or range permission to a role (a grant of the same range replaces its type).</summary>
    /// <param name="role">Role name.</param>
    /// <param name="permission">The permission: type, key and range end (empty: the key alone).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task RoleGrantPermissionAsync(string role, Permission permission, CancellationToken cancellationToken = default) =>
        CallAsync(AuthService + "RoleGrantPermission", new AuthRoleGrantPermissionRequest { Name = role, Perm = permission },
            AuthRoleGrantPermissionResponse.Parser, idempotent: true, cancellationToken);

    /// <summary>Revokes a role's permission on exactly this key or range.</summary>
    /// <param name="role">Role name.</param>
    /// <param name="permission">The permission's key and range end (its type is ignored).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task RoleRevokePermissionAsync(string role, Permission permission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(permission);
        return CallAsync(AuthService + "RoleRevokePermission", new AuthRoleRevokePermissionRequest { Role = role, Key = permission.Key, RangeEnd = permission.RangeEnd },
            AuthRoleRevokePermissionResponse.Parser, idempotent: false, cancellationToken);
    }
}
