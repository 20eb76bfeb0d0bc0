using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Scheduling;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ControlPlane.Director.Hosting;

/// <summary>Registers the director's leader runtime: election, director membership and the scheduler.</summary>
public static class DirectorRuntimeExtensions
{
    /// <summary>Adds the runtime, bound to the <c>Scheduler</c>, <c>Director</c> and <c>Store</c> sections and validated at start-up.
    /// Expects a <see cref="StoreConnection"/> singleton (registered here when absent).</summary>
    public static IServiceCollection AddDirectorRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SchedulerOptions>()
            .Bind(configuration.GetSection(SchedulerOptions.Section))
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // The leader's loop publishes the pending counts that every director's admission control reads.
        services.AddAdmissionOptions(configuration);
        services.TryAddSingleton<QueueStatusPublisher>();
        services.TryAddSingleton(sp =>
        {
            var options = new StoreOptions();
            configuration.GetSection(StoreOptions.Section).Bind(options);
            var connection = new StoreConnection(options, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>());
            connection.Start();
            return connection;
        });
        services.AddMetrics();
        services.TryAddSingleton<SchedulerMetrics>();
        services.TryAddSingleton<ShadowMetrics>();
        services.AddSingleton<DirectorRuntime>();
        services.AddHostedService(sp => sp.GetRequiredService<DirectorRuntime>());
        return services;
    }
}
