using System.Text.Json;
using ControlPlane.Agents;
using ControlPlane.Agents.Diagnostics;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.Coordination;

namespace ControlPlane.UnitTests.Agents;

/// <summary>The agent's optional HTTP port: its settings, its listener prefix, and what <c>/healthz</c> says.</summary>
public sealed class AgentHttpTests
{
    private readonly InMemoryStoreServer _server = new();

    [Theory]
    [InlineData(null, "127.0.0.1", null)]
    [InlineData(9464, "127.0.0.1", null)]
    [InlineData(9464, "0.0.0.0", null)]
    [InlineData(9464, "::1", null)]
    [InlineData(0, "127.0.0.1", "Agent:Http:Port must be between 1 and 65535; got 0.")]
    [InlineData(65536, "127.0.0.1", "Agent:Http:Port must be between 1 and 65535; got 65536.")]
    [InlineData(9464, "localhost", "Agent:Http:Address must be an IP address (127.0.0.1, or 0.0.0.0 for every interface); got 'localhost'.")]
    [InlineData(9464, "1", "Agent:Http:Address must be an IP address (127.0.0.1, or 0.0.0.0 for every interface); got '1'.")]
    public void Settings_are_validated_at_start_naming_the_setting(int? port, string address, string? error)
    {
        var validator = new AgentOptionsValidator(Microsoft.Extensions.Options.Options.Create(new ControlPlane.Coordination.Hosting.StoreOptions()));

        var result = validator.Validate(null, new AgentOptions { Http = new AgentHttpOptions { Port = port, Address = address } });

        Assert.Equal(error, result.Failed ? result.FailureMessage : null);
    }

    [Fact]
    public void The_port_is_off_unless_configured_and_binds_loopback_by_default()
    {
        var options = new AgentOptions();

        Assert.Null(options.Http.Port);
        Assert.Equal("127.0.0.1", options.Http.Address);
    }

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:9464/")]
    [InlineData("0.0.0.0", "http://+:9464/")]
    [InlineData("::", "http://+:9464/")]
    [InlineData("::1", "http://[::1]:9464/")]
    [InlineData("10.1.2.3", "http://10.1.2.3:9464/")]
    public void Every_interface_is_the_listeners_wildcard_and_an_address_is_its_host(string address, string prefix)
    {
        Assert.Equal(prefix, AgentHttpEndpoint.Prefix(address, 9464));
    }

    [Fact]
    public async Task Health_is_ok_while_registered_on_a_connected_session_and_says_why_not_otherwise()
    {
        await using var agent = await TestAgent.StartAsync(_server, sessionTimeout: TimeSpan.FromSeconds(2));
        await Eventually.UntilAsync(() => agent.Runtime.Health().Healthy, TestAgent.Deadline);
        var healthy = agent.Runtime.Health();
        Assert.Equal(("ok", agent.WorkerId, "Connected", true, false), (healthy.Reason, healthy.WorkerId, healthy.Session, healthy.Registered, healthy.Draining));

        agent.Store.CurrentSession.Suspend();
        var suspended = agent.Runtime.Health();
        Assert.False(suspended.Healthy);
        Assert.Equal("the store session is Suspended", suspended.Reason);

        agent.Store.CurrentSession.Reconnect();
        await Eventually.UntilAsync(() => agent.Runtime.Health().Healthy, TestAgent.Deadline);
    }

    [Fact]
    public void The_health_body_says_what_a_reader_needs()
    {
        using var ok = JsonDocument.Parse(AgentHttpEndpoint.Body(new AgentHealth(true, "ok", "w-1", "Connected", true, false, 2)));
        using var starting = JsonDocument.Parse(AgentHttpEndpoint.Body(AgentHealth.NotConnected));

        Assert.Equal(
            """{"status":"ok","reason":"ok","workerId":"w-1","session":"Connected","registered":true,"draining":false,"activeAttempts":2}""",
            ok.RootElement.GetRawText());
        Assert.Equal("unavailable", starting.RootElement.GetProperty("status").GetString());
        Assert.Equal("the agent has not reached the store yet", starting.RootElement.GetProperty("reason").GetString());
        Assert.False(starting.RootElement.TryGetProperty("workerId", out _));
    }
}
