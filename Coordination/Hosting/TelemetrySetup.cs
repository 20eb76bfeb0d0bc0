using System.Diagnostics.Metrics;
using ControlPlane.Etcd;
using ControlPlane.ZooKeeper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ControlPlane.Coordination.Hosting;

/// <summary>
/// Trace and metric export for the directors and the agents, through the OpenTelemetry SDK. OTLP is off unless an
/// endpoint is configured: <c>Telemetry:OtlpEndpoint</c>, or the SDK's own <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> and the other <c>OTEL_*</c> variables the SDK reads). Off, the control plane's
/// activity sources have no listener, so their spans cost one check each and allocate nothing (the store clients'
/// sources are exported only with <c>Telemetry:Tracing:StoreClientSpans=true</c>); meters are listened
/// to only by the readers a host adds (a director's <c>/metrics</c>, an agent's optional HTTP port).
/// </summary>
public static class TelemetrySetup
{
    /// <summary>The setting naming the OTLP collector (an absolute http or https URL).</summary>
    public const string OtlpEndpointKey = "Telemetry:OtlpEndpoint";

    /// <summary>
    /// The setting that adds the store clients' spans (<see cref="StoreClientSources"/>) to the exported traces:
    /// <c>true</c> or <c>false</c>, default false. Off by default because a busy leader makes thousands of store calls
    /// per second, each of which would become a span; on, every store call made under a traced request or placement
    /// appears inside its trace.
    /// </summary>
    public const string StoreClientSpansKey = "Telemetry:Tracing:StoreClientSpans";

    /// <summary>The name under which the OpenTelemetry SDK listens through <see cref="IMetricsBuilder"/> rules.</summary>
    public const string MetricsListenerName = "OpenTelemetry";

    /// <summary>The meters of the store clients (<see cref="ZooKeeperClient.MeterName"/>, <see cref="EtcdClient.MeterName"/>):
    /// static, so one per process, shared by every connection in it.</summary>
    public static IReadOnlyList<string> StoreClientMeters { get; } = [ZooKeeperClient.MeterName, EtcdClient.MeterName];

    /// <summary>The activity sources of the store clients (<see cref="ZooKeeperClient.ActivitySourceName"/>,
    /// <see cref="EtcdClient.ActivitySourceName"/>): one client span per store call. Exported only when
    /// <see cref="StoreClientSpansKey"/> is true.</summary>
    public static IReadOnlyList<string> StoreClientSources { get; } = [ZooKeeperClient.ActivitySourceName, EtcdClient.ActivitySourceName];

    /// <summary>Registers a tracer provider for <paramref name="sources"/> (and the store clients' sources when
    /// <see cref="StoreClientSpansKey"/> is true) that exports over OTLP, when an endpoint is configured; otherwise
    /// registers nothing.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="serviceName">The <c>service.name</c> resource attribute (e.g. <c>controlplane-director</c>).</param>
    /// <param name="serviceInstanceId">The <c>service.instance.id</c> (the director's or worker's id), if known.</param>
    /// <param name="sources">Activity sources to export.</param>
    /// <exception cref="InvalidOperationException"><c>Telemetry:OtlpEndpoint</c> is set but not an absolute http(s) URL,
    /// or <c>Telemetry:Tracing:StoreClientSpans</c> is neither true nor false.</exception>
    public static IServiceCollection AddControlPlaneTracing(
        this IServiceCollection services, IConfiguration configuration, string serviceName, string? serviceInstanceId, params string[] sources)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var storeClientSpans = StoreClientSpans(configuration);
        if (!OtlpConfigured(configuration, out var endpoint))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: serviceInstanceId))
            .WithTracing(tracing => tracing
                .AddSource(storeClientSpans ? [.. sources, .. StoreClientSources] : sources)
                .AddOtlpExporter(options => Point(options, endpoint, "v1/traces")));
        return services;
    }

    /// <summary>Whether <see cref="StoreClientSpansKey"/> asks for the store clients' spans (unset: no).</summary>
    /// <exception cref="InvalidOperationException">The setting is neither true nor false.</exception>
    internal static bool StoreClientSpans(IConfiguration configuration)
    {
        var configured = configuration[StoreClientSpansKey];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return false;
        }

        return bool.TryParse(configured.Trim(), out var on)
            ? on
            : throw new InvalidOperationException($"{StoreClientSpansKey} must be true or false; got '{configured}'.");
    }

    /// <summary>
    /// Registers the host's meter provider: the instruments of <paramref name="hostMeters"/> created through this
    /// host's <see cref="IMeterFactory"/> (so several hosts in one process, as in tests, keep their series apart) and
    /// those of the process-wide <paramref name="processMeters"/>, read by the readers <paramref name="readers"/> adds
    /// (e.g. a Prometheus endpoint) and, when an OTLP endpoint is configured, pushed there too (every 60 s unless
    /// <c>OTEL_METRIC_EXPORT_INTERVAL</c> says otherwise). Registers nothing when there is neither a reader nor OTLP.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="serviceName">The <c>service.name</c> resource attribute (e.g. <c>controlplane-director</c>).</param>
    /// <param name="serviceInstanceId">The <c>service.instance.id</c>, if known.</param>
    /// <param name="hostMeters">Meters the host creates through its <see cref="IMeterFactory"/>.</param>
    /// <param name="processMeters">Static meters, one per process (e.g. <see cref="StoreClientMeters"/>).</param>
    /// <param name="readers">Adds readers to the provider; null for OTLP only.</param>
    /// <exception cref="InvalidOperationException"><c>Telemetry:OtlpEndpoint</c> is set but not an absolute http(s) URL.</exception>
    public static IServiceCollection AddControlPlaneMetrics(
        this IServiceCollection services,
        IConfiguration configuration,
        string serviceName,
        string? serviceInstanceId,
        IEnumerable<string> hostMeters,
        IEnumerable<string> processMeters,
        Action<MeterProviderBuilder>? readers = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(hostMeters);
        ArgumentNullException.ThrowIfNull(processMeters);
        var otlp = OtlpConfigured(configuration, out var endpoint);
        if (!otlp && readers is null)
        {
            return services;
        }

        // Rules rather than AddMeter: the SDK's own subscription matches meters by name in the whole process, while
        // a rule scoped Local takes only this host's factory's meters.
        services.AddMetrics(metrics =>
        {
            foreach (var meter in hostMeters)
            {
                metrics.EnableMetrics(meter, instrumentName: null, listenerName: MetricsListenerName, scopes: MeterScope.Local);
            }

            foreach (var meter in processMeters)
            {
                metrics.EnableMetrics(meter, instrumentName: null, listenerName: MetricsListenerName, scopes: MeterScope.Global);
            }
        });
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: serviceInstanceId))
            .WithMetrics(metrics =>
            {
                readers?.Invoke(metrics);
                if (otlp)
                {
                    metrics.AddOtlpExporter(options => Point(options, endpoint, "v1/metrics"));
                }
            });
        return services;
    }

    /// <summary>Whether OTLP export is configured; <paramref name="endpoint"/> is <c>Telemetry:OtlpEndpoint</c>, null
    /// when only the SDK's variables name the collector.</summary>
    /// <exception cref="InvalidOperationException"><c>Telemetry:OtlpEndpoint</c> is set but not an absolute http(s) URL.</exception>
    internal static bool OtlpConfigured(IConfiguration configuration, out Uri? endpoint)
    {
        var configured = configuration[OtlpEndpointKey];
        endpoint = null;
        if (!string.IsNullOrWhiteSpace(configured)
            && (!Uri.TryCreate(configured.Trim(), UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https")))
        {
            throw new InvalidOperationException($"{OtlpEndpointKey} must be an absolute http or https URL (e.g. http://127.0.0.1:4317); got '{configured}'.");
        }

        return endpoint is not null || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    }

    /// <summary>Points the exporter at <c>Telemetry:OtlpEndpoint</c>, if set. Over http/protobuf an endpoint set in
    /// code is used as it is, so the signal's path (<paramref name="signalPath"/>) is added here, as the SDK does for
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; gRPC takes the bare address.</summary>
    private static void Point(OtlpExporterOptions options, Uri? endpoint, string signalPath)
    {
        if (endpoint is null)
        {
            return;
        }

        options.Endpoint = options.Protocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath is "/" or ""
            ? new Uri(endpoint, signalPath)
            : endpoint;
    }
}
