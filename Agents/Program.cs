using ControlPlane.Agents.Diagnostics;
using ControlPlane.Contracts;
using ControlPlane.Coordination.Hosting;

namespace ControlPlane.Agents;

/// <summary>
/// The agent process: configuration from appsettings, environment and the command line
/// (e.g. <c>--Store:Backend=etcd --Store:Endpoints=127.0.0.1:2379</c>), everything else in
/// <see cref="AgentServiceCollectionExtensions.AddControlPlaneAgent(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>.
/// A named class rather than top-level statements: the test projects see this assembly's internals, and a
/// second global <c>Program</c> would collide with the director's.
/// </summary>
internal static class AgentProgram
{
    private static async Task Main(string[] args)
    {
        // appsettings.json is read from the install directory, as the director does. The default (the working
        // directory) would also be watched for changes, recursively: every file a job writes there would wake the
        // agent's configuration watcher (in e2e it took ~9 % of the agent's CPU for its own execution log).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddControlPlaneAgent(builder.Configuration);
        // Each attempt's run span goes to an OTLP collector when one is configured. A host that embeds the agent
        // adds Tracing.AgentSource to its own tracer provider instead (and the meters below to its meter provider).
        builder.Services.AddControlPlaneTracing(builder.Configuration, "controlplane-agent", builder.Configuration["Agent:Id"], Tracing.AgentSource);
        // The agent's and the store client's series too (Agent:Http:Port serves them for Prometheus on its own).
        builder.Services.AddControlPlaneMetrics(
            builder.Configuration, "controlplane-agent", builder.Configuration["Agent:Id"], [], [AgentMetrics.MeterName, .. TelemetrySetup.StoreClientMeters]);
        using var host = builder.Build();
        await host.RunAsync().ConfigureAwait(false);
    }
}
