using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Coordination.Security;

/// <summary>
/// Sets up least privilege in a store (docs/operations.md, "Identities and permissions"): one director identity with
/// every right under the root, and one identity per agent that may write only its own registration, its own drain
/// record and its own assignments. Every method is idempotent: it compares what the store has with what it should
/// have and changes only the difference, returning one line per change (none when run again). Passwords are sent to
/// the store only and never returned or logged.
/// </summary>
public abstract class StoreAccess : IAsyncDisposable
{
    /// <summary>Connects as the administrator of <paramref name="settings"/>.</summary>
    /// <param name="settings">Where and as whom.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connected administrator; dispose it.</returns>
    /// <exception cref="StoreException">The store could not be reached, or refused the credentials.</exception>
    public static async Task<StoreAccess> ConnectAsync(StoreAccessSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Store.Validate();
        return settings.Store.ParsedBackend == StoreBackend.Etcd
            ? await EtcdStoreAccess.OpenAsync(settings, cancellationToken).ConfigureAwait(false)
            : await ZooKeeperStoreAccess.OpenAsync(settings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates or repairs the director identity and its rights, and turns access control on (etcd: auth;
    /// ZooKeeper: ACLs of every existing node under the root).</summary>
    /// <param name="directorPassword">The director identity's password: set when the identity is new or has another
    /// password.</param>
    /// <param name="cancellationToken">Cancels the work (what was done stays done; run it again).</param>
    /// <returns>One line per change; empty when nothing needed changing.</returns>
    public abstract Task<IReadOnlyList<string>> InitAsync(string directorPassword, CancellationToken cancellationToken = default);

    /// <summary>Creates or repairs agent <paramref name="name"/>'s identity and rights; its worker id is its name.</summary>
    /// <param name="name">The agent's identity name and worker id (<c>[A-Za-z0-9._:@-]</c>, at most 128 characters).</param>
    /// <param name="password">Its password: set when the identity is new or has another password.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>One line per change; empty when nothing needed changing.</returns>
    /// <exception cref="ArgumentException">The name or the password is not valid.</exception>
    /// <exception cref="StoreException">The store refused a change (the message lists what was done before it).</exception>
    public Task<IReadOnlyList<string>> AddAgentAsync(string name, string password, CancellationToken cancellationToken = default)
    {
        ValidateName(name, "The agent identity");
        ValidatePassword(password, $"agent '{name}'");
        return ChangeAsync(changes => AddAgentCoreAsync(name, password, changes, cancellationToken));
    }

    /// <summary>Removes agent <paramref name="name"/>'s identity and rights (nothing when it has none).</summary>
    /// <param name="name">The agent's identity name.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>One line per change.</returns>
    /// <exception cref="ArgumentException">The name is not valid.</exception>
    /// <exception cref="StoreException">The store refused a change (the message lists what was done before it).</exception>
    public Task<IReadOnlyList<string>> RemoveAgentAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name, "The agent identity");
        return ChangeAsync(changes => RemoveAgentCoreAsync(name, changes, cancellationToken));
    }

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> can be an identity and a worker id.</summary>
    /// <param name="name">The name.</param>
    /// <param name="what">What it names, for the message.</param>
    public static void ValidateName(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is < 1 or > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@')
            || name is "." or "..")
        {
            throw new ArgumentException($"{what} '{name}' must be 1-128 characters of [A-Za-z0-9._@-] (it is a worker id and a store identity; ':' is not allowed because ZooKeeper digest ids use it).", what);
        }
    }

    /// <summary>The store's half of <see cref="AddAgentAsync(string, string, CancellationToken)"/>, with the name and
    /// password already validated.</summary>
    /// <param name="name">The agent's identity name.</param>
    /// <param name="password">Its password.</param>
    /// <param name="changes">Where each change is appended as it is made.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    protected abstract Task AddAgentCoreAsync(string name, string password, List<string> changes, CancellationToken cancellationToken);

    /// <summary>The store's half of <see cref="RemoveAgentAsync(string, CancellationToken)"/>, with the name already validated.</summary>
    /// <param name="name">The agent's identity name.</param>
    /// <param name="changes">Where each change is appended as it is made.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    protected abstract Task RemoveAgentCoreAsync(string name, List<string> changes, CancellationToken cancellationToken);

    /// <summary>The <see cref="StoreException"/> that reports <paramref name="error"/>, the store client's refusal of a
    /// change, with what was done before it; null when <paramref name="error"/> is not the store client's (it then
    /// propagates as it is).</summary>
    /// <param name="error">What the work threw.</param>
    /// <param name="changes">The changes made before it.</param>
    protected abstract StoreException? Refused(Exception error, IReadOnlyList<string> changes);

    /// <summary>Runs <paramref name="work"/>, which appends one line per change it makes, and returns the lines; a
    /// refusal by the store becomes <see cref="Refused"/>'s exception.</summary>
    /// <param name="work">The changes to make.</param>
    /// <returns>One line per change.</returns>
    protected async Task<IReadOnlyList<string>> ChangeAsync(Func<List<string>, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var changes = new List<string>();
        try
        {
            await work(changes).ConfigureAwait(false);
        }
        catch (Exception ex) when (Refused(ex, changes) is { } refused)
        {
            throw refused;
        }

        return changes;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for an empty password.</summary>
    /// <param name="password">The password.</param>
    /// <param name="what">Whose, for the message.</param>
    protected static void ValidatePassword(string password, string what)
    {
        if (string.IsNullOrEmpty(password))
        {
            throw new ArgumentException($"The password of {what} is empty.", nameof(password));
        }
    }
}

/// <summary>Where <see cref="StoreAccess"/> works and as whom.</summary>
public sealed class StoreAccessSettings
{
    /// <summary>The store: backend, endpoints, root, request timeout (<see cref="StoreOptions.Username"/> and
    /// <see cref="StoreOptions.Password"/> are not used; see <see cref="AdminUser"/>).</summary>
    public required StoreOptions Store { get; init; }

    /// <summary>etcd only: the administrator that manages users and roles, <c>root</c> (etcd enables auth only with a
    /// <c>root</c> user, which this creates when auth is still off). <value><c>root</c>.</value></summary>
    public string AdminUser { get; init; } = "root";

    /// <summary>etcd only: the administrator's password.</summary>
    public string? AdminPassword { get; init; }

    /// <summary>The director identity's name. On ZooKeeper the administrator is the director identity itself.
    /// <value><c>director</c>.</value></summary>
    public string DirectorUser { get; init; } = "director";

    /// <summary>The director identity's password: on ZooKeeper the session authenticates with it.</summary>
    public string? DirectorPassword { get; init; }
}
