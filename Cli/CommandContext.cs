using System.CommandLine;
using ControlPlane.Client;

namespace ControlPlane.Cli;

/// <summary>What a running command gets: its parse result, the API client and where to write.</summary>
/// <param name="Parse">The parsed command line.</param>
/// <param name="Api">The library's client, bound to the directors of <c>--url</c>.</param>
/// <param name="Environment">Streams, clock and delays.</param>
/// <param name="Json">True for <c>--output json</c>.</param>
/// <param name="Verbose">Standard error with <c>-v</c>, else null: where to say which director serves what.</param>
internal sealed record CommandContext(ParseResult Parse, ControlPlaneClient Api, CliEnvironment Environment, bool Json, TextWriter? Verbose = null)
{
    /// <summary>Standard output.</summary>
    public TextWriter Out => Environment.Out;

    /// <summary>Standard error.</summary>
    public TextWriter Error => Environment.Error;

    /// <summary>Now, on the environment's clock (for ages).</summary>
    public DateTimeOffset Now => Environment.Time.GetUtcNow();
}
