using System.CommandLine;
using System.Text.Json;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Coordination.Security;

namespace ControlPlane.Cli.Commands;

/// <summary>
/// <c>cpctl store init | add-agent | remove-agent</c>: least privilege in the store (docs/operations.md, "Identities and
/// permissions"). Talks to the store itself, not to a director. Passwords come from environment variables or standard
/// input, never from the command line, and are never printed.
/// </summary>
internal static class StoreCommand
{
    /// <summary>The etcd administrator's (<c>root</c>) password.</summary>
    public const string AdminPasswordVariable = "CPCTL_STORE_ADMIN_PASSWORD";

    /// <summary>The director identity's password.</summary>
    public const string DirectorPasswordVariable = "CPCTL_STORE_DIRECTOR_PASSWORD";

    /// <summary>The agent identity's password (<c>add-agent</c>).</summary>
    public const string AgentPasswordVariable = "CPCTL_STORE_AGENT_PASSWORD";

    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var backend = new Option<string>("--backend") { Description = "zookeeper or etcd (env CONTROLPLANE_STORE_BACKEND; default zookeeper).", Recursive = true };
        var endpoints = new Option<string?>("--endpoints") { Description = "Comma-separated host:port of the store (env CONTROLPLANE_STORE_ENDPOINTS; default the backend's local one).", Recursive = true };
        var root = new Option<string?>("--root") { Description = "Key root (env CONTROLPLANE_STORE_ROOT; default controlplane).", Recursive = true };
        var admin = new Option<string>("--admin-user") { Description = $"etcd: the administrator, with the root role (default root; password in {AdminPasswordVariable}).", Recursive = true };
        var director = new Option<string>("--director-user") { Description = $"The director identity (default director; password in {DirectorPasswordVariable}).", Recursive = true };
        var stdin = new Option<bool>("--password-stdin") { Description = "Read the passwords from standard input, one a line, instead of the environment: etcd administrator (etcd only), director, then agent (add-agent only).", Recursive = true };
        var command = new Command("store", "Identities and permissions in the store itself: directors write everything, each agent only its own keys.");
        command.Options.Add(backend);
        command.Options.Add(endpoints);
        command.Options.Add(root);
        command.Options.Add(admin);
        command.Options.Add(director);
        command.Options.Add(stdin);

        var init = new Command("init", "Create or repair the director identity and its rights and turn access control on (idempotent: a second run changes nothing).");
        var add = new Command("add-agent", "Create or repair an agent identity (its worker id) with rights to its own keys only (idempotent).");
        var addName = new Argument<string>("name") { Description = "The agent's identity, which is its worker id (Agent:Id)." };
        add.Arguments.Add(addName);
        var remove = new Command("remove-agent", "Remove an agent identity and its rights.");
        var removeName = new Argument<string>("name") { Description = "The agent's identity." };
        remove.Arguments.Add(removeName);
        command.Subcommands.Add(init);
        command.Subcommands.Add(add);
        command.Subcommands.Add(remove);

        var env = runner.Environment;
        init.SetAction((parse, ct) => RunAsync(env, Options(parse), agentPassword: false,
            (access, passwords, token) => access.InitAsync(passwords.Director ?? throw new UsageException($"The director's password is missing: set {DirectorPasswordVariable} or use --password-stdin."), token), ct));
        add.SetAction((parse, ct) => RunAsync(env, Options(parse), agentPassword: true,
            (access, passwords, token) => access.AddAgentAsync(parse.GetValue(addName)!, passwords.Agent ?? throw new UsageException($"The agent's password is missing: set {AgentPasswordVariable} or use --password-stdin."), token), ct));
        remove.SetAction((parse, ct) => RunAsync(env, Options(parse), agentPassword: false,
            (access, _, token) => access.RemoveAgentAsync(parse.GetValue(removeName)!, token), ct));
        return command;

        StoreCommandOptions Options(ParseResult parse) => new(
            parse.GetValue(backend) ?? env.GetVariable("CONTROLPLANE_STORE_BACKEND") ?? "zookeeper",
            parse.GetValue(endpoints) ?? env.GetVariable("CONTROLPLANE_STORE_ENDPOINTS"),
            parse.GetValue(root) ?? env.GetVariable("CONTROLPLANE_STORE_ROOT") ?? "controlplane",
            parse.GetValue(admin) ?? "root",
            parse.GetValue(director) ?? "director",
            parse.GetValue(stdin),
            parse.GetValue(runner.Globals.Output) == "json");
    }

    private static async Task<int> RunAsync(
        CliEnvironment env, StoreCommandOptions options, bool agentPassword,
        Func<StoreAccess, Passwords, CancellationToken, Task<IReadOnlyList<string>>> body, CancellationToken cancellationToken)
    {
        try
        {
            var store = new StoreOptions { Backend = options.Backend, Endpoints = options.Endpoints, Root = options.Root };
            try
            {
                store.Validate();
            }
            catch (System.ComponentModel.DataAnnotations.ValidationException e)
            {
                throw new UsageException(e.Message.Replace("Store:Backend", "--backend", StringComparison.Ordinal)
                    .Replace("Store:Endpoints", "--endpoints", StringComparison.Ordinal).Replace("Store:Root", "--root", StringComparison.Ordinal));
            }

            var etcd = store.ParsedBackend == StoreBackend.Etcd;
            var passwords = await ReadPasswordsAsync(env, options.PasswordStdin, etcd, agentPassword);
            var settings = new StoreAccessSettings
            {
                Store = store,
                AdminUser = options.AdminUser,
                AdminPassword = passwords.Admin,
                DirectorUser = options.DirectorUser,
                DirectorPassword = passwords.Director,
            };
            if (etcd && string.IsNullOrEmpty(passwords.Admin))
            {
                throw new UsageException($"etcd needs the password of its administrator '{options.AdminUser}': set {AdminPasswordVariable} or use --password-stdin.");
            }

            if (!etcd && string.IsNullOrEmpty(passwords.Director))
            {
                throw new UsageException($"ZooKeeper: the director identity is the administrator; set {DirectorPasswordVariable} or use --password-stdin.");
            }

            await using var access = await StoreAccess.ConnectAsync(settings, cancellationToken);
            var changes = await body(access, passwords, cancellationToken);
            if (options.Json)
            {
                await env.Out.WriteLineAsync(JsonSerializer.Serialize(new { changes }, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                foreach (var change in changes)
                {
                    await env.Out.WriteLineAsync(change);
                }

                await env.Out.WriteLineAsync(changes.Count == 0 ? "no changes: the store already is as asked" : $"{changes.Count} change(s)");
            }

            return ExitCodes.Success;
        }
        catch (UsageException e)
        {
            await env.Error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (ArgumentException e)
        {
            await env.Error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (NotSupportedException e)
        {
            await env.Error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.RequestFailed;
        }
        catch (StoreException e)
        {
            await env.Error.WriteLineAsync($"error: {e.Message}");
            return ExitCodes.RequestFailed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await env.Error.WriteLineAsync("interrupted");
            return ExitCodes.Interrupted;
        }
    }

    private static async Task<Passwords> ReadPasswordsAsync(CliEnvironment env, bool fromStdin, bool etcd, bool agent)
    {
        if (!fromStdin)
        {
            return new Passwords(env.GetVariable(AdminPasswordVariable), env.GetVariable(DirectorPasswordVariable), env.GetVariable(AgentPasswordVariable));
        }

        using var reader = new StreamReader(env.OpenInput());
        var adminPassword = etcd ? await reader.ReadLineAsync() : null;
        var directorPassword = await reader.ReadLineAsync();
        var agentPassword = agent ? await reader.ReadLineAsync() : null;
        return new Passwords(adminPassword, directorPassword, agentPassword);
    }

    private sealed record StoreCommandOptions(string Backend, string? Endpoints, string Root, string AdminUser, string DirectorUser, bool PasswordStdin, bool Json);

    private sealed record Passwords(string? Admin, string? Director, string? Agent);
}
