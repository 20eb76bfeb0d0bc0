using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Client;

/// <summary>Making a client without a container.</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary>
    /// A client for programs without a container (scripts, tests): the same stack as
    /// <see cref="ControlPlaneClientServiceCollectionExtensions.AddControlPlaneClient"/>, in a private container the client
    /// owns. Dispose it when done; make one per process and share it (it is thread-safe).
    /// </summary>
    /// <param name="configure">Sets the options; they are validated here.</param>
    /// <param name="primaryHandler">The innermost HTTP handler (a fake one in tests); null for the default. The client
    /// does not dispose it.</param>
    /// <param name="timeProvider">The clock of retry, poll and reconnect waits (a manual one in tests); null for the system clock.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is invalid; the message names each.</exception>
    public static ControlPlaneClient Create(Action<ControlPlaneClientOptions> configure, HttpMessageHandler? primaryHandler = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var services = new ServiceCollection();
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        var http = services.AddControlPlaneClient(configure);
        if (primaryHandler is not null)
        {
            http.ConfigurePrimaryHttpMessageHandler(() => new NonDisposingHandler(primaryHandler));
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        try
        {
            var client = provider.GetRequiredService<ControlPlaneClient>();
            return new ControlPlaneClient(client._http, client._directors, client._options, client._time, provider);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>Lets the factory dispose its handler chain without disposing a handler the caller owns.</summary>
    private sealed class NonDisposingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // Not base.Dispose: that would dispose the caller's handler.
        }
    }
}
