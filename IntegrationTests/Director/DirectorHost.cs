using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ControlPlane.IntegrationTests.Director;

/// <summary>One director process hosted in the test (<see cref="WebApplicationFactory{TEntryPoint}"/>), configured
/// for a real store under a test's own root, with one full and one read-only token. Without <c>runtime</c> it serves
/// only the API: no election, no scheduler, so records the test writes as an agent or a leader would stay as written.</summary>
public sealed class DirectorHost : IAsyncDisposable
{
    /// <summary>A token that may do everything.</summary>
    public const string Token = "test-token-full-0001";

    /// <summary>A token that may only read.</summary>
    public const string ReadOnlyToken = "test-token-read-0001";

    private readonly WebApplicationFactory<Program> _factory;

    /// <summary>Configures the director; it starts with the first client or service request. <paramref name="settings"/>
    /// are applied last (e.g. <c>Scheduler:MaxPending</c>).</summary>
    public DirectorHost(
        string backend, string endpoints, string root, bool runtime = false, IReadOnlyDictionary<string, string>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Store:Backend", backend);
            builder.UseSetting("Store:Endpoints", endpoints);
            builder.UseSetting("Store:Root", root);
            builder.UseSetting("Store:SessionTimeout", "00:00:04");
            builder.UseSetting("Auth:Tokens:0", Token);
            builder.UseSetting("Auth:ReadOnlyTokens:0", ReadOnlyToken);
            // Requests and store connections log at Information; the tests need only what went wrong.
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
            // Without the runtime's campaign, no scheduler rewrites the workers and assignments tests write by hand.
            builder.UseSetting("Director:Campaign", runtime ? "true" : "false");
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                builder.UseSetting(key, value);
            }

            if (services is not null)
            {
                builder.ConfigureServices(services);
            }
        });
        Client = CreateClient(Token);
    }

    /// <summary>A client sending the full token.</summary>
    public HttpClient Client { get; }

    /// <summary>A client sending <paramref name="token"/>, or no Authorization header when null.</summary>
    public HttpClient CreateClient(string? token)
    {
        var client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>A handler that sends requests to this director in memory (no socket), e.g. as a client library's
    /// primary handler; the caller disposes it.</summary>
    public HttpMessageHandler CreateHandler() => _factory.Server.CreateHandler();

    /// <summary>A service of the director.</summary>
    public T Service<T>()
        where T : notnull => _factory.Services.GetRequiredService<T>();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
    }
}
