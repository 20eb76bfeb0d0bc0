using ControlPlane.Director.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Auth;

/// <summary>Says at start-up whether the API requires tokens, so an open API never goes unnoticed.</summary>
internal sealed class AuthStartupLog(IOptions<AuthOptions> options, DirectorIdentity identity, ILogger<AuthStartupLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var auth = options.Value;
        if (auth.Enabled)
        {
            Log.AuthEnabled(logger, identity.Id, auth.Tokens.Count, auth.ReadOnlyTokens.Count);
        }
        else
        {
            Log.AuthDisabled(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
