using ControlPlane.Coordination.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace ControlPlane.UnitTests.Coordination;

public sealed class TelemetrySetupTests
{
    [Fact]
    public void Without_an_endpoint_nothing_is_registered_so_nothing_listens()
    {
        using var provider = Register(new()).BuildServiceProvider();

        Assert.Null(provider.GetService<TracerProvider>());
    }

    [Theory]
    [InlineData(TelemetrySetup.OtlpEndpointKey, "http://127.0.0.1:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]
    public void An_endpoint_in_either_setting_registers_a_tracer_provider(string key, string value)
    {
        using var provider = Register(new() { [key] = value }).BuildServiceProvider();

        Assert.NotNull(provider.GetService<TracerProvider>());
    }

    [Theory]
    [InlineData("127.0.0.1:4317")]
    [InlineData("ftp://collector:21")]
    [InlineData("not a url")]
    public void A_bad_endpoint_stops_the_host_naming_the_setting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Register(new() { [TelemetrySetup.OtlpEndpointKey] = value }));

        Assert.Contains(TelemetrySetup.OtlpEndpointKey, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    private static ServiceCollection Register(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddControlPlaneTracing(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "test", "instance-1", "Test.Source");
        return services;
    }
}
