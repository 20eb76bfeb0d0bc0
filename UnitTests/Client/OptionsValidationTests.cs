using ControlPlane.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ControlPlane.UnitTests.Client;

/// <summary>Bad options fail when the client is made, naming every bad setting; the token is never echoed.</summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public void Create_refuses_options_without_directors()
    {
        var e = Assert.Throws<OptionsValidationException>(() => ControlPlaneClient.Create(_ => { }));

        Assert.Contains("Directors: at least one director URL is needed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_setting_is_named_in_one_failure_and_the_token_is_not_shown()
    {
        var services = new ServiceCollection();
        services.AddControlPlaneClient(o =>
        {
            o.Directors.Add(new Uri("ftp://127.0.0.1:5080"));
            o.Directors.Add(new Uri("http://127.0.0.1:5080/?x=1"));
            o.Token = "secret value";
            o.AttemptTimeout = TimeSpan.Zero;
            o.MaxRetryAttempts = -1;
            o.PollInterval = TimeSpan.FromMilliseconds(1);
        });
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ControlPlaneClient>());

        Assert.Equal(6, e.Failures.Count());
        Assert.Contains("'ftp://127.0.0.1:5080/' is not an absolute http or https URL", e.Message, StringComparison.Ordinal);
        Assert.Contains("has a query or fragment", e.Message, StringComparison.Ordinal);
        Assert.Contains("Token: empty or contains white space", e.Message, StringComparison.Ordinal);
        Assert.Contains("AttemptTimeout", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRetryAttempts: -1", e.Message, StringComparison.Ordinal);
        Assert.Contains("PollInterval", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_options_make_a_client_and_the_defaults_are_the_documented_ones()
    {
        using var client = ControlPlaneClient.Create(o => o.Directors.Add(new Uri("http://127.0.0.1:5080")));
        var defaults = new ControlPlaneClientOptions();

        Assert.NotNull(client);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.AttemptTimeout);
        Assert.Equal(3, defaults.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(10), defaults.MaxRetryAfter);
        Assert.Null(defaults.Token);
    }

    [Fact]
    public void Options_are_validated_at_host_start_through_ValidateOnStart()
    {
        var services = new ServiceCollection();
        services.AddControlPlaneClient();
        using var provider = services.BuildServiceProvider();

        // What a host runs at start-up: every validation registered with ValidateOnStart.
        var startup = provider.GetRequiredService<IStartupValidator>();

        Assert.Throws<OptionsValidationException>(startup.Validate);
    }
}
