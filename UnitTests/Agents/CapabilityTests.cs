using ControlPlane.Agents;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Workers;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

public sealed class CapabilityTests
{
    private readonly InMemoryStoreServer _server = new();

    [Fact]
    public async Task Registers_every_feature_and_the_handlers_by_default()
    {
        await using var agent = await TestAgent.StartAsync(_server, agent: o =>
        {
            o.Id = "w-default";
            o.Labels["zone"] = "a";
        });

        var record = await ReadWorkerAsync(agent);

        Assert.Equal(Protocol.Features.Default, record.Features);
        Assert.Contains(Protocol.Features.WorkerHeartbeat, record.Features);
        Assert.DoesNotContain(Protocol.Features.Heartbeat, record.Features);
        Assert.Equal(["echo", "sleep"], record.Executors);
        Assert.Equal("w-default", record.Id);
        Assert.Equal("a", record.Labels["zone"]);
        Assert.Equal(Protocol.Version, record.ProtocolVersion);
        Assert.Equal(Environment.ProcessId, record.ProcessId);
        Assert.Equal(0.2, record.HeartbeatSeconds, 3);
        Assert.False(record.Draining);
        Assert.Equal(agent.Store.Session.Id, (await agent.Store.GetAsync(StoreLayout.Worker(agent.WorkerId)))!.Owner);
    }

    [Fact]
    public async Task An_agent_that_advertises_less_registers_only_those_features_and_shell_when_enabled()
    {
        await using var agent = await TestAgent.StartAsync(_server,
            agent: o => o.Features = [Protocol.Features.Env, Protocol.Features.Cancel],
            shell: s => s.Enabled = true);

        var record = await ReadWorkerAsync(agent);

        Assert.Equal([Protocol.Features.Env, Protocol.Features.Cancel], record.Features);
        Assert.Equal(["shell", "echo", "sleep"], record.Executors);
        Assert.Equal(0, record.HeartbeatSeconds);
    }

    [Fact]
    public void Generated_worker_ids_are_host_dash_eight_hex_digits()
    {
        var id = ControlPlane.Agents.Runtime.WorkerIdentity.Resolve(null);
        Assert.Matches("^[a-z0-9._-]+-[0-9a-f]{8}$", id);
        Assert.Equal("fixed", ControlPlane.Agents.Runtime.WorkerIdentity.Resolve("fixed"));
    }

    [Fact]
    public void Options_validation_names_each_bad_setting()
    {
        var validator = new AgentOptionsValidator(Microsoft.Extensions.Options.Options.Create(
            new ControlPlane.Coordination.Hosting.StoreOptions { SessionTimeout = TimeSpan.FromSeconds(10) }));
        var result = validator.Validate(null, new AgentOptions
        {
            Id = "bad/id",
            Slots = 0,
            Features = ["teleport"],
            HeartbeatInterval = TimeSpan.Zero,
            FencingMargin = TimeSpan.FromSeconds(6),
        });

        Assert.True(result.Failed);
        Assert.Contains("Agent:Id", result.FailureMessage);
        Assert.Contains("Agent:Slots", result.FailureMessage);
        Assert.Contains("teleport", result.FailureMessage);
        Assert.Contains("Agent:HeartbeatInterval", result.FailureMessage);
        Assert.Contains("Agent:FencingMargin", result.FailureMessage);
        Assert.True(validator.Validate(null, new AgentOptions()).Succeeded);
        var both = validator.Validate(null, new AgentOptions { Features = [Protocol.Features.Heartbeat, Protocol.Features.WorkerHeartbeat] });
        Assert.True(both.Failed);
        Assert.Contains("'heartbeat' and 'workerHeartbeat'", both.FailureMessage);
        Assert.True(validator.Validate(null, new AgentOptions { FencingMargin = TimeSpan.FromSeconds(5) }).Succeeded);
    }

    [Fact]
    public void Beat_fence_validation_names_the_setting_and_the_missing_feature()
    {
        var validator = new AgentOptionsValidator(Microsoft.Extensions.Options.Options.Create(
            new ControlPlane.Coordination.Hosting.StoreOptions { SessionTimeout = TimeSpan.FromSeconds(10) }));
        var tooShort = validator.Validate(null, new AgentOptions { HeartbeatInterval = TimeSpan.FromSeconds(5), BeatFence = TimeSpan.FromSeconds(9) });
        Assert.True(tooShort.Failed);
        Assert.Contains("Agent:BeatFence must be between twice Agent:HeartbeatInterval", tooShort.FailureMessage);
        Assert.True(validator.Validate(null, new AgentOptions { BeatFence = TimeSpan.FromHours(2) }).Failed);
        Assert.True(validator.Validate(null, new AgentOptions { HeartbeatInterval = TimeSpan.FromSeconds(5), BeatFence = TimeSpan.FromSeconds(10) }).Succeeded);

        var alone = validator.Validate(null, new AgentOptions { Features = [Protocol.Features.BeatFence, Protocol.Features.Heartbeat] });
        Assert.True(alone.Failed);
        Assert.Contains("'beatFence' without 'workerHeartbeat'", alone.FailureMessage);

        // The default: the longer of three intervals and the session timeout; none without the feature.
        Assert.Equal(TimeSpan.FromSeconds(15), new AgentOptions().EffectiveBeatFence(TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(20), new AgentOptions().EffectiveBeatFence(TimeSpan.FromSeconds(20)));
        Assert.Null(new AgentOptions { Features = [Protocol.Features.WorkerHeartbeat] }.EffectiveBeatFence(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task An_agent_of_a_named_cell_registers_the_cell_and_works_only_under_its_keys()
    {
        await using var agent = await TestAgent.StartAsync(_server, agent: o =>
        {
            o.Id = "w-eu";
            o.Cell = "eu-1";
        });

        Assert.Null(await agent.Store.GetAsync(StoreLayout.Worker("w-eu")));
        var item = await agent.Store.GetAsync("cells/eu-1/" + StoreLayout.Worker("w-eu"));
        Assert.NotNull(item);
        Assert.Equal("eu-1", ContractJson.Deserialize<WorkerRecord>(item.Value.Span).Cell);
        var registered = ContractJson.Deserialize<CellRecord>((await agent.Store.GetAsync(StoreLayout.CellRecord("eu-1")))!.Value.Span);
        Assert.Equal(("eu-1", "w-eu"), (registered.Name, registered.CreatedBy));
        // A default-cell agent's record says nothing of cells: the same bytes as before them.
        await using var plain = await TestAgent.StartAsync(_server, agent: o => o.Id = "w-root");
        Assert.Null((await ReadWorkerAsync(plain)).Cell);
        Assert.DoesNotContain("\"cell\"", System.Text.Encoding.UTF8.GetString((await plain.Store.GetAsync(StoreLayout.Worker("w-root")))!.Value.Span), StringComparison.Ordinal);
    }

    [Fact]
    public void Cell_validation_names_the_bad_character_and_refuses_a_named_cell_with_store_identities()
    {
        var validator = new AgentOptionsValidator(Microsoft.Extensions.Options.Options.Create(
            new ControlPlane.Coordination.Hosting.StoreOptions { SessionTimeout = TimeSpan.FromSeconds(10) }));
        var bad = validator.Validate(null, new AgentOptions { Cell = "EU_1" });
        Assert.True(bad.Failed);
        Assert.Contains("Agent:Cell: Cell name 'EU_1' has 'E' at 0", bad.FailureMessage);
        Assert.True(validator.Validate(null, new AgentOptions { Cell = "eu-1" }).Succeeded);
        Assert.Equal(Cells.Default, new AgentOptions().Cell);

        var withIdentity = new AgentOptionsValidator(Microsoft.Extensions.Options.Options.Create(
            new ControlPlane.Coordination.Hosting.StoreOptions { SessionTimeout = TimeSpan.FromSeconds(10), Username = "build-01" }));
        var refused = withIdentity.Validate(null, new AgentOptions { Id = "build-01", Cell = "eu-1" });
        Assert.True(refused.Failed);
        Assert.Contains("Agent:Cell 'eu-1' with Store:Username", refused.FailureMessage);
        Assert.True(withIdentity.Validate(null, new AgentOptions { Id = "build-01" }).Succeeded);
    }

    private static async Task<WorkerRecord> ReadWorkerAsync(TestAgent agent) =>
        ContractJson.Deserialize<WorkerRecord>((await agent.Store.GetAsync(StoreLayout.Worker(agent.WorkerId)))!.Value.Span);
}
