using System.Diagnostics;
using System.Diagnostics.Metrics;
using ControlPlane.Coordination.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ControlPlane.UnitTests.Coordination;

public sealed class TelemetrySetupTests
{
    [Fact]
    public void Without_an_endpoint_nothing_is_registered_so_nothing_listens()
    {
        using var provider = Register(new()).BuildServiceProvider();

        Assert.Null(provider.GetService<TracerProvider>());
        Assert.Null(provider.GetService<MeterProvider>());
    }

    [Theory]
    [InlineData(TelemetrySetup.OtlpEndpointKey, "http://127.0.0.1:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]
    public void An_endpoint_in_either_setting_registers_a_tracer_and_a_meter_provider(string key, string value)
    {
        using var provider = Register(new() { [key] = value }).BuildServiceProvider();

        Assert.NotNull(provider.GetService<TracerProvider>());
        Assert.NotNull(provider.GetService<MeterProvider>());
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

    [Theory]
    [InlineData(null, false)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    [InlineData(" True ", true)]
    public void Store_client_spans_are_exported_only_when_the_setting_says_so(string? setting, bool exported)
    {
        var settings = new Dictionary<string, string?> { [TelemetrySetup.OtlpEndpointKey] = "http://127.0.0.1:4317" };
        if (setting is not null)
        {
            settings[TelemetrySetup.StoreClientSpansKey] = setting;
        }

        var spans = new List<Activity>();
        var services = Register(settings);
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        using var provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetService<TracerProvider>());

        // Sources named like the clients' (a provider listens by name): no store is needed to see what it takes.
        var probe = $"probe-{Guid.NewGuid():N}";
        foreach (var name in TelemetrySetup.StoreClientSources)
        {
            using var source = new ActivitySource(name);
            source.StartActivity(probe, ActivityKind.Client)?.Dispose();
        }

        var names = spans.Where(s => s.DisplayName == probe).Select(s => s.Source.Name).ToList();
        string[] expected = exported ? ["ControlPlane.ZooKeeper", "ControlPlane.Etcd"] : [];
        Assert.Equal(expected, names);
    }

    [Fact]
    public void A_store_client_spans_setting_that_is_not_a_boolean_stops_the_host_naming_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Register(new() { [TelemetrySetup.StoreClientSpansKey] = "yes" }));

        Assert.Contains(TelemetrySetup.StoreClientSpansKey, error.Message, StringComparison.Ordinal);
        Assert.Contains("'yes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_host_exports_the_meter_of_its_own_factory_and_the_process_meters()
    {
        // Names unique to this test: listeners see every meter of the process, and tests run in parallel.
        var hostMeter = $"ControlPlane.Test.Host.{Guid.NewGuid():N}";
        using var processMeter = new Meter($"ControlPlane.Test.Process.{Guid.NewGuid():N}");
        var (first, firstMetrics) = await StartHostAsync(hostMeter, processMeter.Name);
        var (second, secondMetrics) = await StartHostAsync(hostMeter, processMeter.Name);
        using (first)
        using (second)
        {
            // Same meter name in both hosts, as two directors in one test process have.
            first.Services.GetRequiredService<IMeterFactory>().Create(hostMeter).CreateCounter<long>("test.requests").Add(1);
            second.Services.GetRequiredService<IMeterFactory>().Create(hostMeter).CreateCounter<long>("test.requests").Add(5);
            processMeter.CreateCounter<long>("test.process").Add(2);

            Assert.Equal((1, 2), Read(first, firstMetrics));
            Assert.Equal((5, 2), Read(second, secondMetrics));
            await first.StopAsync();
            await second.StopAsync();
        }
    }

    private static async Task<(IHost Host, List<Metric> Exported)> StartHostAsync(string hostMeter, string processMeter)
    {
        var exported = new List<Metric>();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddControlPlaneMetrics(
            builder.Configuration, "test", "instance-1", [hostMeter], [processMeter], metrics => metrics.AddInMemoryExporter(exported));
        var host = builder.Build();
        await host.StartAsync();
        return (host, exported);
    }

    /// <summary>The host's exported sums of <c>test.requests</c> and <c>test.process</c>, collected now.</summary>
    private static (long Host, long Process) Read(IHost host, List<Metric> exported)
    {
        exported.Clear();
        Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush());
        return (Sum(exported, "test.requests"), Sum(exported, "test.process"));
    }

    private static long Sum(List<Metric> exported, string name)
    {
        long sum = 0;
        foreach (var metric in exported.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                sum += point.GetSumLong();
            }
        }

        return sum;
    }

    private static ServiceCollection Register(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        services.AddControlPlaneTracing(configuration, "test", "instance-1", "Test.Source");
        services.AddControlPlaneMetrics(configuration, "test", "instance-1", ["Test.Meter"], TelemetrySetup.StoreClientMeters);
        return services;
    }
}
