using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>Start-up validation and behaviour without a store; needs no server.</summary>
public sealed class DirectorConfigurationTests
{
    [Fact]
    public async Task Invalid_settings_stop_the_director_at_start_naming_each_of_them()
    {
        await using var factory = Configure(new()
        {
            ["Store:Backend"] = "cassandra",
            ["Director:Url"] = "not a url",
            ["Auth:Tokens:0"] = "short",
            ["Scheduler:MaxPending"] = "-5",
        });

        var failures = StartupFailures(Assert.ThrowsAny<Exception>(() => factory.CreateClient()));

        foreach (var setting in (string[])["Store:Backend", "Director:Url", "Auth:Tokens:0", "Scheduler:MaxPending"])
        {
            Assert.True(failures.Contains(setting, StringComparison.Ordinal), $"'{setting}' is not named in: {failures}");
        }
    }

    [Theory]
    [InlineData("//myroot", "empty")]
    [InlineData("/", "1 to 512 characters")]
    [InlineData("my root", "has ' ' at 2")]
    [InlineData("myroot/", "empty")]
    public async Task A_root_that_is_not_a_key_stops_the_director_even_with_a_leading_slash_allowed(string root, string reason)
    {
        await using var factory = Configure(new() { ["Store:Root"] = root });

        var failures = StartupFailures(Assert.ThrowsAny<Exception>(() => factory.CreateClient()));

        Assert.True(failures.Contains("Store:Root is not a valid key", StringComparison.Ordinal), $"Store:Root is not named in: {failures}");
        Assert.True(failures.Contains(reason, StringComparison.Ordinal), $"'{reason}' is not named in: {failures}");
    }

    [Fact]
    public async Task Without_tokens_the_api_is_open_and_an_unreachable_store_answers_503_with_retry_after()
    {
        // Port 1 on loopback refuses connections: the store is never reached.
        await using var factory = Configure(new() { ["Store:Backend"] = "etcd", ["Store:Endpoints"] = "127.0.0.1:1", ["Store:RequestTimeout"] = "00:00:01" });
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/v1/jobs");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    /// <summary>Every validation failure in <paramref name="error"/>, however the host wrapped them (one section's
    /// failures come as one exception, several sections' as an aggregate, and the host may wrap either once more); when
    /// there are none, the whole exception, so a failed assertion shows what stopped the director instead.</summary>
    private static string StartupFailures(Exception error)
    {
        var failures = Flatten(error).OfType<OptionsValidationException>().SelectMany(e => e.Failures).ToList();
        return failures.Count > 0 ? string.Join(" | ", failures) : error.ToString();

        static IEnumerable<Exception> Flatten(Exception e) => e switch
        {
            AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Flatten),
            { InnerException: { } inner } => [e, .. Flatten(inner)],
            _ => [e],
        };
    }

    private static WebApplicationFactory<Program> Configure(Dictionary<string, string> settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Error));
        });
}
