using System.CommandLine;
using ControlPlane.Cli.Http;

namespace ControlPlane.Cli;

/// <summary>What a running command gets: its parse result, the API client and where to write.</summary>
/// <param name="Parse">The parsed command line.</param>
/// <param name="Api">Client bound to the chosen director.</param>
/// <param name="Environment">Streams, clock and delays.</param>
/// <param name="Json">True for <c>--output json</c>.</param>
internal sealed record CommandContext(ParseResult Parse, ApiClient Api, CliEnvironment Environment, bool Json)
{
    /// <summary>Standard output.</summary>
    public TextWriter Out => Environment.Out;

    /// <summary>Standard error.</summary>
    public TextWriter Error => Environment.Error;

    /// <summary>Now, on the environment's clock (for ages).</summary>
    public DateTimeOffset Now => Environment.Time.GetUtcNow();
}
