namespace ControlPlane.Cli;

/// <summary>
/// Everything cpctl takes from its process: streams, environment variables, the HTTP stack and time.
/// Tests build one with a fake <see cref="HttpMessageHandler"/> and string writers; <see cref="FromProcess"/>
/// is the real one.
/// </summary>
internal sealed class CliEnvironment
{
    /// <summary>Standard output: tables and JSON.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error: problems, warnings, progress.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Opens standard input (<c>-f -</c>); tests give a stream of their own.</summary>
    public Func<Stream> OpenInput { get; init; } = Console.OpenStandardInput;

    /// <summary>Reads an environment variable (null when unset).</summary>
    public Func<string, string?> GetVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>Creates the innermost handler under ControlPlane.Client's stack; the runner disposes it after the command.</summary>
    public Func<HttpMessageHandler> CreateHandler { get; init; } = () => new SocketsHttpHandler
    {
        // A director that is down should fail fast, not after the OS's long connect timeout.
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Clock for ages in tables and for <c>wait</c> deadlines.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Waits between polls; tests replace it to advance a manual clock instead of sleeping.</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    /// <summary>Waits <paramref name="delay"/> on <see cref="Delay"/>, or on <see cref="Time"/> when none is set: the poll
    /// interval of <c>wait</c> (not a retry: failed calls are retried by the client library's resilience handler).</summary>
    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        Delay is { } custom ? custom(delay, cancellationToken) : Task.Delay(delay, Time, cancellationToken);

    /// <summary>The real process: console streams, real environment, sockets and the system clock.</summary>
    public static CliEnvironment FromProcess() => new() { Out = Console.Out, Error = Console.Error };
}
