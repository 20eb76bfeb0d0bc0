using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ControlPlane.Coordination.Hosting;

/// <summary>
/// Trace export for the directors and the agents, through the OpenTelemetry SDK's OTLP exporter. Off unless an
/// endpoint is configured: <c>Telemetry:OtlpEndpoint</c>, or the SDK's own <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> and the other <c>OTEL_*</c> variables the SDK reads). Off, the control plane's
/// activity sources have no listener, so their spans cost one check each and allocate nothing.
/// </summary>
public static class TracingSetup
{
    /// <summary>The setting naming the OTLP collector (an absolute http or https URL).</summary>
    public const string OtlpEndpointKey = "Telemetry:OtlpEndpoint";

    /// <summary>Registers a tracer provider for <paramref name="sources"/> that exports over OTLP, when an endpoint is
    /// configured; otherwise registers nothing.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration.</param>
    /// <param name="serviceName">The <c>service.name</c> resource attribute (e.g. <c>controlplane-director</c>).</param>
    /// <param name="serviceInstanceId">The <c>service.instance.id</c> (the director's or worker's id), if known.</param>
    /// <param name="sources">Activity sources to export.</param>
    /// <exception cref="InvalidOperationException"><c>Telemetry:OtlpEndpoint</c> is set but not an absolute http(s) URL.</exception>
    public static IServiceCollection AddControlPlaneTracing(
        this IServiceCollection services, IConfiguration configuration, string serviceName, string? serviceInstanceId, params string[] sources)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[OtlpEndpointKey];
        Uri? endpoint = null;
        if (!string.IsNullOrWhiteSpace(configured)
            && (!Uri.TryCreate(configured.Trim(), UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https")))
        {
            throw new InvalidOperationException($"{OtlpEndpointKey} must be an absolute http or https URL (e.g. http://127.0.0.1:4317); got '{configured}'.");
        }

        if (endpoint is null && string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceInstanceId: serviceInstanceId))
            .WithTracing(tracing => tracing
                .AddSource(sources)
                .AddOtlpExporter(options =>
                {
                    if (endpoint is not null)
                    {
                        options.Endpoint = endpoint;
                    }
                }));
        return services;
    }
}
