using System.Net.Http.Headers;
using System.Reflection;
using ControlPlane.Client.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Polly;

namespace ControlPlane.Client;

/// <summary>Registers <see cref="ControlPlaneClient"/> with a container.</summary>
public static class ControlPlaneClientServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the client uses (for <c>IHttpClientFactory</c> configuration,
    /// e.g. a custom primary handler in tests or for TLS).</summary>
    public const string HttpClientName = "ControlPlane.Client";

    private static readonly string UserAgent =
        $"ControlPlane.Client/{typeof(ControlPlaneClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}";

    /// <summary>
    /// Registers <see cref="ControlPlaneClient"/> (transient, cheap: the HTTP handlers are pooled by
    /// <c>IHttpClientFactory</c>) with options from <paramref name="configure"/> and any other
    /// <c>Configure&lt;ControlPlaneClientOptions&gt;</c>. The options are validated when the client is first resolved and,
    /// in a host, at start-up (<c>ValidateOnStart</c>). The HTTP stack, outermost first: a retry strategy
    /// (Microsoft.Extensions.Http.Resilience) over the failover between directors, over the primary handler. A
    /// <see cref="TimeProvider"/> registered before this call drives the retry and poll waits.
    /// </summary>
    /// <returns>The HTTP client builder, to add handlers or replace the primary handler.</returns>
    public static IHttpClientBuilder AddControlPlaneClient(this IServiceCollection services, Action<ControlPlaneClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ControlPlaneClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ControlPlaneClientOptions>, ControlPlaneClientOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DirectorRotation(Options(sp).Directors));
        services.TryAddTransient(sp => new ControlPlaneClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            sp.GetRequiredService<DirectorRotation>(),
            Options(sp),
            sp.GetRequiredService<TimeProvider>()));

        var http = services.AddHttpClient(HttpClientName, (sp, client) =>
        {
            // Each attempt has its own timeout (FailoverHandler); the whole call is bounded by retries and the caller's token.
            client.Timeout = Timeout.InfiniteTimeSpan;
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
            if (Options(sp).Token is { } token)
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
        });
        http.AddResilienceHandler("retry", (builder, context) => builder.AddRetry(RetryRules.Create(Options(context.ServiceProvider))));
        http.AddHttpMessageHandler(sp => new FailoverHandler(sp.GetRequiredService<DirectorRotation>(), Options(sp).AttemptTimeout, Options(sp).OnDirectorAttempt));
        return http;
    }

    private static ControlPlaneClientOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<ControlPlaneClientOptions>>().Value;
}
