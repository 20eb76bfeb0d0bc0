using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ControlPlane.TestSupport.Processes;

namespace ControlPlane.TestSupport.ControlPlane;

/// <summary>
/// Starts the real director and agent builds (<c>ControlPlane/bin/&lt;config&gt;/net10.0/ControlPlane.Director.dll</c>,
/// <c>Agents/bin/.../ControlPlane.Agents.dll</c>) as child processes of the test, under the same parent-death
/// signal as the store servers: nothing outlives the test run. Every process gets its own directory (log, execution
/// log) below the fixture root.
/// </summary>
public sealed class ControlPlaneApps : IAsyncDisposable
{
    private readonly FixtureDirectory _directory;
    private readonly List<AppProcess> _processes = [];
    private readonly Lock _lock = new();

    /// <summary>Creates an empty set of processes for one test or fixture.</summary>
    public ControlPlaneApps(string name = "apps") => _directory = new FixtureDirectory(name);

    /// <summary>The bearer token every director started here accepts.</summary>
    public string Token { get; } = "test-token-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Directory holding the processes' logs.</summary>
    public string Directory => _directory.Path;

    /// <summary>Every process started so far.</summary>
    public IReadOnlyList<AppProcess> Processes
    {
        get
        {
            lock (_lock)
            {
                return [.. _processes];
            }
        }
    }

    /// <summary>Execution logs of every agent started so far (one file per agent process).</summary>
    public IEnumerable<string> ExecutionLogs => System.IO.Directory.EnumerateFiles(_directory.Path, "*.executions.jsonl");

    /// <summary>Starts a director listening on a free loopback port and (unless <paramref name="waitUntilHealthy"/> is
    /// false) waits until it answers <c>/healthz</c>.</summary>
    /// <param name="store">Where the store is.</param>
    /// <param name="name">The director's id and log name.</param>
    /// <param name="extraArguments">More command-line settings.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="waitUntilHealthy">Whether to wait for <c>/healthz</c>.</param>
    /// <param name="https">When set, the API is served over HTTPS only, with this certificate and key, through
    /// Kestrel's own settings (<c>Kestrel:Endpoints:Https:*</c>, as docs/operations.md shows them); the returned
    /// client trusts <paramref name="httpsCaFile"/>.</param>
    /// <param name="httpsCaFile">The CA of <paramref name="https"/>.</param>
    public async Task<DirectorProcess> StartDirectorAsync(
        StoreTarget store, string name, IEnumerable<string>? extraArguments = null, CancellationToken cancellationToken = default, bool waitUntilHealthy = true,
        TlsFiles? https = null, string? httpsCaFile = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var port = PortAllocator.Allocate(1)[0];
        var url = https is null ? $"http://127.0.0.1:{port}" : $"https://127.0.0.1:{port}";
        var arguments = new List<string> { Locate("ControlPlane", "ControlPlane.Director.dll") };
        if (https is null)
        {
            arguments.AddRange(["--urls", url]);
        }
        else
        {
            arguments.AddRange([
                $"--Kestrel:Endpoints:Https:Url={url}",
                $"--Kestrel:Endpoints:Https:Certificate:Path={https.CertFile}",
                $"--Kestrel:Endpoints:Https:Certificate:KeyPath={https.KeyFile}",
            ]);
        }

        arguments.AddRange([$"--Director:Id={name}", $"--Director:Url={url}", $"--Auth:Tokens:0={Token}"]);
        arguments.AddRange(store.Arguments());
        arguments.AddRange(extraArguments ?? []);
        var process = await StartAsync(name, arguments).ConfigureAwait(false);
        var director = new DirectorProcess(process, new Uri(url), Token, httpsCaFile is null ? null : TrustingHandler(httpsCaFile));
        if (!waitUntilHealthy)
        {
            return director;
        }

        await Eventually.UntilAsync(
            async () => process.HasExited ? throw new InvalidOperationException($"{name} exited: {process.LogTail()}") : await director.Client.IsHealthyAsync().ConfigureAwait(false),
            TimeSpan.FromSeconds(60),
            () => process.LogTail()).ConfigureAwait(false);
        return director;
    }

    /// <summary>An HTTP handler that trusts only the CA in <paramref name="caFile"/> (and checks the host name).</summary>
    public static SocketsHttpHandler TrustingHandler(string caFile)
    {
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(caFile);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(trusted);
        return new SocketsHttpHandler { UseProxy = false, SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy } };
    }

    /// <summary>A loopback port that was free a moment ago (nothing reserves it), e.g. for <c>Agent:Http:Port</c>.</summary>
    public static int FreePort() => PortAllocator.Allocate(1)[0];

    /// <summary>Starts an agent with the shell executor enabled and an execution log; does not wait for its registration.</summary>
    public Task<AppProcess> StartAgentAsync(StoreTarget store, string id, int slots = 4, IEnumerable<string>? extraArguments = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var arguments = new List<string>
        {
            Locate("Agents", "ControlPlane.Agents.dll"),
            $"--Agent:Id={id}",
            $"--Agent:Slots={slots}",
            $"--Agent:ExecutionLog={Path.Combine(_directory.Path, $"{id}-{Guid.NewGuid().ToString("N")[..6]}.executions.jsonl")}",
            "--Executors:Shell:Enabled=true",
        };
        arguments.AddRange(store.Arguments());
        arguments.AddRange(extraArguments ?? []);
        return StartAsync(id, arguments);
    }

    /// <summary>Runs the built <c>cpctl</c> to its end with <paramref name="arguments"/> and the extra environment
    /// <paramref name="environment"/> (e.g. <c>CONTROLPLANE_URL</c>); killed if it outlives <paramref name="timeout"/>.</summary>
    public static async Task<CliResult> RunCliAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(DotNet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Locate("Cli", "cpctl.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Nothing from the test's own environment decides where cpctl goes or as whom.
        start.Environment.Remove("CONTROLPLANE_URL");
        start.Environment.Remove("CONTROLPLANE_TOKEN");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cpctl did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cpctl {string.Join(' ', start.ArgumentList.Skip(1))} did not exit in time; stderr so far:\n{(error.IsCompleted ? await error.ConfigureAwait(false) : "")}");
        }

        return new CliResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    private async Task<AppProcess> StartAsync(string name, List<string> arguments)
    {
        var log = Path.Combine(_directory.Path, $"{name}-{Guid.NewGuid().ToString("N")[..6]}.log");
        arguments.Add($"--Test:FixtureDirectory={_directory.Path}");
        // The fixture path in the command line lets test.sh find a process that outlived its test run.
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["CP_FIXTURE_DIR"] = _directory.Path,
        };
        var process = await ProcessLauncher.StartAsync(DotNet, arguments, log, _directory.Path, environment).ConfigureAwait(false);
        var app = new AppProcess(name, process, log);
        lock (_lock)
        {
            _processes.Add(app);
        }

        return app;
    }

    private static string DotNet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>The build output of <paramref name="project"/> in the configuration the tests were built in.</summary>
    private static string Locate(string project, string assembly)
    {
        // Tests run from <root>/<TestProject>/bin/<Configuration>/net10.0/.
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = baseDirectory.Name;
        var configuration = baseDirectory.Parent!.Name;
        var root = baseDirectory.Parent.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, project, "bin", configuration, framework, assembly);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{assembly} is not built at {path}; build the solution (test.sh does) before the integration tests.", path);
    }

    /// <summary>Kills every process still running and deletes the directory.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        _directory.Dispose();
    }
}

/// <summary>A director process and a client for its API.</summary>
/// <param name="Process">The process.</param>
/// <param name="Url">Its API base address.</param>
/// <param name="Token">A bearer token it accepts.</param>
/// <param name="Handler">The HTTP handler of <see cref="Client"/> (e.g. one that trusts the API's CA), or null for the default.</param>
public sealed record DirectorProcess(AppProcess Process, Uri Url, string Token, HttpMessageHandler? Handler = null)
{
    /// <summary>A client of this director's API.</summary>
    public DirectorClient Client { get; } = new(Url, Token, Handler);
}

/// <summary>What one run of <c>cpctl</c> printed and returned.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
public sealed record CliResult(int ExitCode, string Out, string Error);
