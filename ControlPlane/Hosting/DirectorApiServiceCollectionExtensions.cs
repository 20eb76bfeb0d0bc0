using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ControlPlane.Contracts;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Api;
using ControlPlane.Director.Auth;
using ControlPlane.Director.Events;
using ControlPlane.Director.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace ControlPlane.Director.Hosting;

/// <summary>Registers the director's REST API: options, the store connection, auth, metrics, OpenAPI.</summary>
public static class DirectorApiServiceCollectionExtensions
{
    /// <summary>
    /// Adds everything <see cref="DirectorApiEndpointRouteBuilderExtensions.MapDirectorApi"/> serves, bound to the
    /// <c>Store</c>, <c>Director</c>, <c>Auth</c> and (for admission control) <c>Scheduler</c> sections of <paramref name="configuration"/> and validated
    /// when the host starts. Registers <see cref="StoreConnection"/>, <see cref="DirectorIdentity"/> and
    /// <see cref="DirectorMetrics"/> as singletons for the rest of the director to share.
    /// </summary>
    public static IServiceCollection AddDirectorApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<StoreOptions>().Bind(configuration.GetSection(StoreOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StoreOptions>>(new ProblemsValidator<StoreOptions>(StoreProblems));
        services.AddOptions<DirectorOptions>()
            .Bind(configuration.GetSection(DirectorOptions.Section))
            .PostConfigure(options =>
            {
                options.Id ??= DirectorOptions.NewId();
                options.Version ??= DirectorOptions.BuildVersion();
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DirectorOptions>>(new ProblemsValidator<DirectorOptions>(options => options.Problems()));
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>>(new ProblemsValidator<AuthOptions>(options => options.Problems()));
        services.AddAdmissionOptions(configuration);

        services.AddSingleton(provider =>
        {
            // Hosted services that take the connection are built before ValidateOnStart runs: whoever asks first
            // gets every invalid setting, not just the store's.
            ThrowIfAnyInvalid(provider);
            return new StoreConnection(
                provider.GetRequiredService<IOptions<StoreOptions>>().Value,
                provider.GetRequiredService<ILoggerFactory>(),
                provider.GetRequiredService<TimeProvider>());
        });
        services.AddHostedService<StoreConnectionHost>();
        services.AddSingleton<DirectorIdentity>();
        services.AddHostedService<AuthStartupLog>();
        services.AddSingleton<TokenSet>();

        services.AddSingleton<DirectorMetrics>();
        services.AddHostedService<DirectorMetricsStartup>();
        // The director's meter (this host's only: tests run several directors in one process) and the store clients'
        // (one per process), read on each scrape of /metrics and pushed over OTLP when a collector is configured.
        services.AddControlPlaneMetrics(
            configuration,
            "controlplane-director",
            configuration[$"{DirectorOptions.Section}:Id"],
            [DirectorMetrics.MeterName],
            TelemetrySetup.StoreClientMeters,
            metrics => metrics.AddPrometheusExporter(options =>
            {
                // Series keep the names and labels they had before the SDK (no otel_scope_* labels on each).
                options.ScopeInfoEnabled = false;
                // Every scrape reads current values (the SDK's default caches a response for 300 ms).
                options.ScrapeResponseCacheDurationMilliseconds = 0;
            }));

        services.AddSingleton<JobSubmission>();
        services.AddSingleton<WorkflowSubmission>();
        services.AddSingleton<WorkflowCancellation>();
        services.AddSingleton<QueueStatusWatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<QueueStatusWatcher>());
        services.AddSingleton<DirectorHealth>();
        services.AddSingleton<JobAdmission>();
        services.AddSingleton<JobCancellation>();
        services.AddSingleton<JobListing>();
        services.AddSingleton<ScheduleService>();
        services.AddSingleton<JobExplanations>();
        services.AddSingleton<WorkerQueries>();
        services.AddSingleton<ClusterQueries>();
        services.AddSingleton<CellQueries>();
        services.AddSingleton<CellPolicyService>();
        services.AddSingleton<CellRouter>();
        services.AddSingleton<RolloutService>();
        services.AddOptions<DoctorOptions>().Bind(configuration.GetSection(DoctorOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DoctorOptions>>(new ProblemsValidator<DoctorOptions>(options => options.Problems()));
        services.AddSingleton<Doctor.ClusterDoctor>();
        services.AddOptions<EventsOptions>().Bind(configuration.GetSection(EventsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EventsOptions>>(new ProblemsValidator<EventsOptions>(options => options.Problems()));
        services.AddSingleton<EventHub>();
        services.AddHostedService(provider => provider.GetRequiredService<EventHub>());

        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        // Responses use the contract dialect (ContractJson): camelCase, enums as strings, nulls left out.
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // Bodies are read by SpecReader, which names every unknown field; should an endpoint ever bind one as a
            // parameter instead, an unknown field still fails the request rather than being dropped.
            options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });
        services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = Limits.MaxBodyBytes);
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer<BearerSecuritySchemeTransformer>();
            options.AddOperationTransformer<RequestBodyRulesTransformer>();
        });
        return services;
    }

    /// <summary>Binds <see cref="AdmissionOptions"/> to the <c>Scheduler</c> section with its start-up validation; safe
    /// to call from both the API's and the runtime's registration (the leader publishes what the limits need).</summary>
    internal static IServiceCollection AddAdmissionOptions(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<AdmissionOptions>)))
        {
            return services;
        }

        services.AddOptions<AdmissionOptions>().Bind(configuration.GetSection(AdmissionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdmissionOptions>>(new ProblemsValidator<AdmissionOptions>(options => options.Problems()));
        return services;
    }

    private static void ThrowIfAnyInvalid(IServiceProvider provider)
    {
        var failures = new List<OptionsValidationException>();
        foreach (var read in (Action[])[
            () => _ = provider.GetRequiredService<IOptions<StoreOptions>>().Value,
            () => _ = provider.GetRequiredService<IOptions<DirectorOptions>>().Value,
            () => _ = provider.GetRequiredService<IOptions<AuthOptions>>().Value,
            () => _ = provider.GetRequiredService<IOptions<AdmissionOptions>>().Value])
        {
            try
            {
                read();
            }
            catch (OptionsValidationException e)
            {
                failures.Add(e);
            }
        }

        if (failures.Count > 0)
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException(failures);
        }
    }

    private static IEnumerable<string> StoreProblems(StoreOptions options)
    {
        try
        {
            options.Validate();
            return [];
        }
        catch (ValidationException e)
        {
            return [e.Message];
        }
    }
}
