using System.Diagnostics;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>
/// Least privilege in the store (issue 18), one subclass per backend: <c>cpctl store init</c> and <c>add-agent</c> set up
/// a director identity and one identity per agent, idempotently; a director and an agent run a job with their own
/// credentials; and agent A's credentials, used directly through our store client, can write its own registration and
/// assignments but cannot create, change or delete a job, agent B's assignment or a director's key.
/// </summary>
public abstract class StorePermissionTestBase : IAsyncLifetime
{
    /// <summary>Deadline for things that happen at once unless broken.</summary>
    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private const string DirectorPassword = "director-secret-1";
    private const string AgentAPassword = "agent-a-secret-1";
    private const string AgentBPassword = "agent-b-secret-1";
    private readonly ControlPlaneApps _apps = new("acl");

    /// <summary>The test's key root.</summary>
    protected string Root { get; } = "t/" + TestNames.Unique("acl");

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The store's client address.</summary>
    protected abstract string Endpoints { get; }

    /// <summary>What the store's permission error looks like in our exception's message.</summary>
    protected abstract string DeniedMarker { get; }

    /// <summary>Environment for <c>cpctl store</c> beyond the director's and agent's passwords (etcd: the root password).</summary>
    protected abstract IReadOnlyDictionary<string, string> AdminEnvironment { get; }

    /// <summary>Whether the store can refuse an agent a registration under another agent's name (etcd: yes; ZooKeeper:
    /// no, a CREATE right on <c>workers</c> covers every child name).</summary>
    protected virtual bool BindsRegistrationNames => true;

    private StoreTarget Target => new(Backend, Endpoints, Root, TimeSpan.FromSeconds(4));

    /// <inheritdoc />
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public virtual async Task DisposeAsync() => await _apps.DisposeAsync();

    [Fact]
    public async Task Init_is_idempotent_and_an_agent_writes_only_its_own_keys_while_a_job_runs_end_to_end()
    {
        // Set up, twice: the second run of each command changes nothing.
        var init = await StoreCliAsync(["init"]);
        Assert.DoesNotContain("no changes", init, StringComparison.Ordinal);
        Assert.Contains("no changes", await StoreCliAsync(["init"]), StringComparison.Ordinal);
        await StoreCliAsync(["add-agent", "agent-a"], AgentAPassword);
        await StoreCliAsync(["add-agent", "agent-b"], AgentBPassword);
        Assert.Contains("no changes", await StoreCliAsync(["add-agent", "agent-a"], AgentAPassword), StringComparison.Ordinal);

        // The inspection command docs/operations.md shows (zkCli.sh getAcl, etcdctl role get), run as written.
        var inspected = await InspectAsync("agent-a");
        Assert.All(InspectionMarkers("agent-a"), marker => Assert.Contains(marker, inspected, StringComparison.Ordinal));

        await using var director = await ConnectAsync("director", DirectorPassword);
        // Closed by hand below: its registration must be gone before the real agent-a starts.
        var agentA = await ConnectAsync("agent-a", AgentAPassword);

        // Records of others, written by the director: a job, B's assignment, A's assignment, an election candidate.
        var jobId = JobIds.New();
        var jobKey = StoreLayout.Job(jobId);
        var otherAssignment = StoreLayout.Assignment("agent-b", jobId, 1);
        var ownAssignment = StoreLayout.Assignment("agent-a", jobId, 2);
        var candidate = StoreLayout.Election + "/c-" + Guid.NewGuid().ToString("N");
        Assert.True((await director.CommitAsync(new Transaction()
            .Create(jobKey, Json("job")).Create(otherAssignment, Json("b")).Create(ownAssignment, Json("a")).Create(candidate, Json("d"), ephemeral: true))).Succeeded);

        // A cannot create, change or delete any of them, nor create a job or a key of B's or under directors/.
        var jobItem = (await director.GetAsync(jobKey))!;
        var otherItem = (await director.GetAsync(otherAssignment))!;
        var candidateItem = (await director.GetAsync(candidate))!;
        await DeniedAsync(agentA, new Transaction().Create(StoreLayout.Job(JobIds.New()), Json("forged")), "create a job");
        await DeniedAsync(agentA, new Transaction().Update(jobKey, Json("changed"), jobItem.Version), "update a job");
        await DeniedAsync(agentA, new Transaction().Delete(jobKey, jobItem.Version), "delete a job");
        await DeniedAsync(agentA, new Transaction().Create(StoreLayout.Assignment("agent-b", JobIds.New(), 1), Json("forged")), "create B's assignment");
        await DeniedAsync(agentA, new Transaction().Update(otherAssignment, Json("changed"), otherItem.Version), "update B's assignment");
        await DeniedAsync(agentA, new Transaction().Delete(otherAssignment, otherItem.Version), "delete B's assignment");
        await DeniedAsync(agentA, new Transaction().Create(StoreLayout.Election + "/c-" + Guid.NewGuid().ToString("N"), Json("forged"), ephemeral: true), "create an election candidate");
        await DeniedAsync(agentA, new Transaction().Update(candidate, Json("changed"), candidateItem.Version), "update an election candidate");
        await DeniedAsync(agentA, new Transaction().Delete(candidate, candidateItem.Version), "delete an election candidate");
        if (BindsRegistrationNames)
        {
            await DeniedAsync(agentA, new Transaction().Create(StoreLayout.Worker("agent-b"), Json("forged"), ephemeral: true), "register as B");
        }

        // Nothing of theirs changed.
        Assert.Equal(jobItem.Version, (await director.GetAsync(jobKey))!.Version);
        Assert.Equal(otherItem.Version, (await director.GetAsync(otherAssignment))!.Version);
        Assert.Equal(candidateItem.Version, (await director.GetAsync(candidate))!.Version);

        // A can register and beat, and report on its own assignment.
        Assert.True((await agentA.CommitAsync(new Transaction().Create(StoreLayout.Worker("agent-a"), Json("reg"), ephemeral: true))).Succeeded);
        var registration = (await agentA.GetAsync(StoreLayout.Worker("agent-a")))!;
        Assert.True((await agentA.CommitAsync(new Transaction().Update(registration.Key, Json("beat"), registration.Version))).Succeeded);
        var own = (await agentA.GetAsync(ownAssignment))!;
        Assert.True((await agentA.CommitAsync(new Transaction().Update(ownAssignment, Json("report"), own.Version))).Succeeded);

        // Clean up before the real processes start (their leader would withdraw these anyway).
        await agentA.DisposeAsync();
        await Eventually.UntilAsync(async () => await director.GetAsync(registration.Key) is null, Deadline);
        Assert.True((await director.CommitAsync(new Transaction().Delete(jobKey).Delete(otherAssignment).Delete(ownAssignment).Delete(candidate))).Succeeded);

        // A director and an agent with their own credentials run a job end to end.
        var directorProcess = await _apps.StartDirectorAsync(Target, "director-1", ["--Store:Username=director", $"--Store:Password={DirectorPassword}"]);
        await _apps.StartAgentAsync(Target, "agent-a", slots: 2, ["--Store:Username=agent-a", $"--Store:Password={AgentAPassword}"]);
        var job = await directorProcess.Client.SubmitAsync(new JobSpec { Executor = "shell", Command = ["/bin/echo", "least privilege"] });
        var done = await directorProcess.Client.WaitForTerminalAsync(job.Id, Deadline);
        Assert.True(done.State == JobState.Succeeded, $"{done.State}: {done.Error}\n{string.Join("\n", _apps.Processes.Select(p => p.LogTail()))}");
        Assert.Equal("agent-a", done.WorkerId);
    }

    [Fact]
    public async Task An_agent_whose_id_differs_from_its_identity_stops_at_start_up_with_a_message_naming_both()
    {
        await StoreCliAsync(["init"]);
        var agent = await _apps.StartAgentAsync(Target, "someone-else", slots: 1, ["--Store:Username=agent-a", $"--Store:Password={AgentAPassword}"]);
        await Eventually.UntilAsync(() => agent.HasExited, Deadline, () => agent.LogTail());
        Assert.Contains("Agent:Id 'someone-else' differs from Store:Username 'agent-a'", agent.LogTail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_with_a_wrong_password_never_registers_and_says_why_in_its_log()
    {
        await StoreCliAsync(["init"]);
        await StoreCliAsync(["add-agent", "agent-a"], AgentAPassword);
        var agent = await _apps.StartAgentAsync(Target, "agent-a", slots: 1, ["--Store:Username=agent-a", "--Store:Password=wrong-password"]);

        // An agent process on a loaded machine took 15 s to get from its start to its first registration attempt.
        await Eventually.UntilAsync(() => agent.LogContains(WrongPasswordMarker), Deadline * 2, () => agent.LogTail());
        Assert.False(agent.HasExited, agent.LogTail());
        Assert.DoesNotContain("wrong-password", agent.LogTail(int.MaxValue), StringComparison.Ordinal);
        await using var director = await ConnectAsync("director", DirectorPassword);
        Assert.Null(await director.GetAsync(StoreLayout.Worker("agent-a")));
    }

    /// <summary>The store's own view of what <paramref name="agent"/> may do, read with its own tool as
    /// docs/operations.md ("Identities and permissions") shows it.</summary>
    protected abstract Task<string> InspectAsync(string agent);

    /// <summary>What <see cref="InspectAsync"/> must print for <paramref name="agent"/>.</summary>
    protected abstract IEnumerable<string> InspectionMarkers(string agent);

    /// <summary>What the log of an agent with a wrong password says.</summary>
    protected abstract string WrongPasswordMarker { get; }

    /// <summary>Runs <c>cpctl store &lt;args&gt;</c> against this test's store and returns its standard output.</summary>
    private async Task<string> StoreCliAsync(string[] args, string? agentPassword = null)
    {
        var environment = new Dictionary<string, string>(AdminEnvironment) { ["CPCTL_STORE_DIRECTOR_PASSWORD"] = DirectorPassword };
        if (agentPassword is not null)
        {
            environment["CPCTL_STORE_AGENT_PASSWORD"] = agentPassword;
        }

        var result = await ControlPlaneApps.RunCliAsync(["store", .. args, "--backend", Backend, "--endpoints", Endpoints, "--root", Root], environment);
        Assert.True(result.ExitCode == 0, $"cpctl store {string.Join(' ', args)}: exit {result.ExitCode}\nstdout: {result.Out}\nstderr: {result.Error}");
        Assert.DoesNotContain(DirectorPassword, result.Out + result.Error, StringComparison.Ordinal);
        return result.Out;
    }

    private Task<ICoordinationStore> ConnectAsync(string user, string password) => new StoreOptions
    {
        Backend = Backend,
        Endpoints = Endpoints,
        Root = Root,
        SessionTimeout = TimeSpan.FromSeconds(4),
        Username = user,
        Password = password,
    }.ConnectAsync();

    private async Task DeniedAsync(ICoordinationStore store, Transaction transaction, string what)
    {
        var denied = await Assert.ThrowsAsync<StorePermissionException>(async () =>
        {
            var result = await store.CommitAsync(transaction);
            Assert.Fail($"{what}: the store accepted it (succeeded: {result.Succeeded})");
        });
        Assert.True(denied.Message.Contains(DeniedMarker, StringComparison.OrdinalIgnoreCase), $"{what}: {denied.Message}");
    }

    private static byte[] Json(string marker) => Encoding.UTF8.GetBytes($$"""{"schema":1,"test":"{{marker}}"}""");
}

/// <summary>On an etcd of its own: enabling auth on the shared one would break every other test.</summary>
public sealed class EtcdStorePermissionTests : StorePermissionTestBase
{
    private EtcdCluster? _cluster;

    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => _cluster!.Endpoints;

    /// <inheritdoc />
    protected override string DeniedMarker => "permission denied";

    /// <inheritdoc />
    protected override string WrongPasswordMarker => "refused identity 'agent-a'";

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> AdminEnvironment { get; } =
        new Dictionary<string, string> { ["CPCTL_STORE_ADMIN_PASSWORD"] = "root-secret-1" };

    /// <inheritdoc />
    protected override Task<string> InspectAsync(string agent) =>
        _cluster!.EtcdCtlAsync("--user", "root:" + AdminEnvironment["CPCTL_STORE_ADMIN_PASSWORD"], "role", "get", $"cp-agent:{Root}:{agent}");

    /// <inheritdoc />
    protected override IEnumerable<string> InspectionMarkers(string agent) =>
    [
        $"Role cp-agent:{Root}:{agent}", "KV Read:", $"(prefix /{Root}/)", "KV Write:",
        $"(prefix /{Root}/assignments/{agent}/)", $"/{Root}/drains/{agent}", $"/{Root}/workers/{agent}",
    ];

    /// <inheritdoc />
    public override async Task InitializeAsync() => _cluster = await EtcdCluster.StartAsync(1);

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>On the shared ZooKeeper: ACLs are per node, so this test's root is all it changes.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperStorePermissionTests(ZooKeeperFixture fixture) : StorePermissionTestBase
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;

    /// <inheritdoc />
    protected override string DeniedMarker => "NoAuth";

    /// <inheritdoc />
    protected override string WrongPasswordMarker => "NoAuth, it needs CREATE on /";

    /// <inheritdoc />
    protected override IReadOnlyDictionary<string, string> AdminEnvironment { get; } = new Dictionary<string, string>();

    /// <inheritdoc />
    protected override bool BindsRegistrationNames => false;

    /// <inheritdoc />
    protected override async Task<string> InspectAsync(string agent)
    {
        var info = new ProcessStartInfo("/usr/share/zookeeper/bin/zkCli.sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-server", Endpoints, "getAcl", $"/{Root}/workers"])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start zkCli.sh.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"zkCli.sh getAcl did not finish within 60 s: {await stderr}");
        }

        return await stdout + "\n" + await stderr;
    }

    /// <inheritdoc />
    protected override IEnumerable<string> InspectionMarkers(string agent) =>
        ["'digest,'director:", ": cdrwa", "'world,'anyone", ": r", $"'digest,'{agent}:"];
}
