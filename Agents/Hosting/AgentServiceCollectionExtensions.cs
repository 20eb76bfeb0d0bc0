using System.ComponentModel.DataAnnotations;
using ControlPlane.Agents.Executors;
using ControlPlane.Agents.Handlers;
using ControlPlane.Agents.Hosting;
using ControlPlane.Contracts;
using ControlPlane.Coordination.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ControlPlane.Agents;

/// <summary>Adds the agent to a host: <c>builder.Services.AddControlPlaneAgent(builder.Configuration)</c>.</summary>
public static class AgentServiceCollectionExtensions
{
    // Beyond the drain timeout and the grace period: time to report, delete the drain record and deregister.
    private static readonly TimeSpan ShutdownAllowance = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Adds an agent that connects to the store of the <c>Store:*</c> section, registers a worker configured by
    /// <c>Agent:*</c> and <c>Executors:Shell:*</c>, and runs the assignments the leader gives it until the host stops
    /// (then it drains). The <c>sleep</c> and <c>echo</c> handlers are always there; add yours with
    /// <see cref="AddJobHandler{THandler}"/>. Options are validated when the host starts. The host's shutdown timeout is
    /// raised above the drain timeout plus the grace period, so a SIGTERM drains fully. Call once per host.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">Configuration holding the <c>Store</c>, <c>Agent</c> and <c>Executors</c> sections.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddControlPlaneAgent(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<StoreOptions>().Bind(configuration.GetSection(StoreOptions.Section)).ValidateOnStart();
        // With store credentials the worker id is the identity's name, so the store's permissions can be bound to the
        // agent's own keys (docs/operations.md, "Identities and permissions"); a different Agent:Id fails validation.
        services.AddOptions<AgentOptions>().Bind(configuration.GetSection(AgentOptions.Section))
            .PostConfigure<IOptions<StoreOptions>>((agent, store) => agent.Id ??= store.Value.Username)
            .ValidateOnStart();
        services.AddOptions<ShellExecutorOptions>().Bind(configuration.GetSection(ShellExecutorOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StoreOptions>, StoreOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ShellExecutorOptions>, ShellExecutorOptionsValidator>());
        services.AddOptions<HostOptions>().Configure<IOptions<AgentOptions>, IOptions<ShellExecutorOptions>>((host, agent, shell) =>
        {
            var needed = agent.Value.DrainTimeout + shell.Value.GracePeriod + ShutdownAllowance;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new StoreConnection(
            sp.GetRequiredService<IOptions<StoreOptions>>().Value, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.AddJobHandler<SleepHandler>(SleepHandler.Name);
        services.AddJobHandler<EchoHandler>(EchoHandler.Name);
        services.AddHostedService<AgentHostedService>();
        return services;
    }

    /// <summary>Adds the agent (see <see cref="AddControlPlaneAgent(IServiceCollection, IConfiguration)"/>) and then
    /// applies <paramref name="configure"/> to its options, after the configuration is bound.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">Configuration holding the <c>Store</c>, <c>Agent</c> and <c>Executors</c> sections.</param>
    /// <param name="configure">Changes to the bound <see cref="AgentOptions"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddControlPlaneAgent(this IServiceCollection services, IConfiguration configuration, Action<AgentOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddControlPlaneAgent(configuration);
        services.Configure(configure);
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> as the in-process executor <paramref name="name"/>: the agent
    /// advertises the name and runs assignments whose executor is <paramref name="name"/> with a new handler
    /// resolved (as a keyed transient) from a scope of its own per attempt.
    /// </summary>
    /// <typeparam name="THandler">The handler; its constructor may take any registered service.</typeparam>
    /// <param name="services">The host's services.</param>
    /// <param name="name">Executor name: 1-64 characters, not <c>shell</c>. Registering a name twice keeps the last handler.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, too long or <c>shell</c>.</exception>
    public static IServiceCollection AddJobHandler<THandler>(this IServiceCollection services, string name)
        where THandler : class, IJobHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Length > Limits.MaxExecutorLength || name == Protocol.ShellExecutor)
        {
            throw new ArgumentException($"A handler name has 1-{Limits.MaxExecutorLength} characters and is not '{Protocol.ShellExecutor}'; got '{name}'.", nameof(name));
        }

        services.AddKeyedTransient<IJobHandler, THandler>(name);
        services.AddSingleton(new JobHandlerRegistration(name));
        return services;
    }

    /// <summary>Runs <see cref="StoreOptions.Validate"/> at start-up.</summary>
    private sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
    {
        public ValidateOptionsResult Validate(string? name, StoreOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ValidationException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
