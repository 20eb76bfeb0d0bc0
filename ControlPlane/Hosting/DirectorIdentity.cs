using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace ControlPlane.Director.Hosting;

/// <summary>
/// This director's id and advertised URL, resolved once from <see cref="DirectorOptions"/>; when no URL is
/// configured it is the first address the server listens on, known only once the server has started.
/// </summary>
public sealed class DirectorIdentity(IOptions<DirectorOptions> options, IServer server)
{
    /// <summary>The director id (<c>Director:Id</c>, or the generated default).</summary>
    public string Id => options.Value.Id ?? throw new InvalidOperationException("Director:Id has no value; the options were not post-configured.");

    /// <summary>The version this director reports and cell policies match (<c>Director:Version</c>, or the build's).</summary>
    public string Version => options.Value.Version ?? DirectorOptions.BuildVersion();

    /// <summary>The advertised base URL. Read it after the server has started (e.g. in a hosted service's
    /// <c>ApplicationStarted</c> callback): before, an unconfigured URL is empty.</summary>
    public string Url => options.Value.Url ?? Advertise(server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()) ?? "";

    /// <summary>A listening address as clients can use it: wildcard hosts become the machine's name.</summary>
    internal static string? Advertise(string? address)
    {
        if (address is null)
        {
            return null;
        }

        foreach (var wildcard in (string[])["://+:", "://*:", "://[::]:", "://0.0.0.0:"])
        {
            if (address.Contains(wildcard, StringComparison.Ordinal))
            {
                return address.Replace(wildcard, $"://{Environment.MachineName}:", StringComparison.Ordinal);
            }
        }

        return address.TrimEnd('/');
    }
}
