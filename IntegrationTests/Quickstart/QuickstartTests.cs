using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Quickstart;

/// <summary>
/// The README's first command keeps its promise: <c>./quickstart.sh --once</c> starts a store, 3 directors and 2
/// agents, runs the demo (a job that succeeds, one that fails, a FIFO group, a workflow), checks its outcome, stops everything
/// and exits 0. Run on both stores, on free ports, without rebuilding (test.sh has built the solution).
/// </summary>
[Collection(Collection)]
public sealed class QuickstartTests(ITestOutputHelper output)
{
    /// <summary>Runs alone: it starts a store and five .NET processes.</summary>
    public const string Collection = "quickstart";

    [Theory]
    [InlineData("--zookeeper")]
    [InlineData("--etcd")]
    public async Task Quickstart_once_runs_the_demo_and_leaves_nothing_running(string store)
    {
        var root = RepositoryRoot();
        var work = Path.Combine(Path.GetTempPath(), "cp-fixtures", $"{Environment.ProcessId}-quickstart-{Guid.NewGuid().ToString("N")[..8]}");
        var apiPort = FreeRange(3);
        var info = new ProcessStartInfo("/bin/bash", ["quickstart.sh", store, "--once"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["CP_QUICKSTART_NO_BUILD"] = "1";
        info.Environment["CP_QUICKSTART_DIR"] = work;
        info.Environment["CP_QUICKSTART_API_PORT"] = apiPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CP_QUICKSTART_ZK_PORT"] = FreeRange(1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CP_QUICKSTART_ETCD_PORT"] = FreeRange(2).ToString(System.Globalization.CultureInfo.InvariantCulture);

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            // What it printed says where it stuck (the streams end once the process tree is gone).
            output.WriteLine(await stdout + await stderr);
            throw;
        }

        var text = await stdout + await stderr;
        output.WriteLine(text);
        Assert.True(process.ExitCode == 0, $"quickstart exited {process.ExitCode}:\n{text}");
        Assert.Contains("--once: the demo did what it promises", text, StringComparison.Ordinal);
        Assert.Contains("Token:", text, StringComparison.Ordinal);
        Assert.Contains("/ui/", text, StringComparison.Ordinal); // the dashboard's URL
        Assert.Contains("leader:", text, StringComparison.Ordinal);
        Assert.Contains("transform-a,transform-b", text, StringComparison.Ordinal); // the workflow's table, by ref
        Assert.False(Directory.Exists(work), $"{work} was left behind");
        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, apiPort));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "quickstart.sh")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("quickstart.sh not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The first of <paramref name="count"/> consecutive loopback ports that are free now.</summary>
    private static int FreeRange(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            // Below Linux's ephemeral range (32768 and up), where the fixtures' kernel-assigned ports and every outgoing
            // connection's local port live: a port chosen there can be taken by another test between this choice and the
            // store's bind (a quickstart run once hung, silent, before its store was up).
            var first = Random.Shared.Next(20_000, 32_000);
            var listeners = new List<TcpListener>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, first + i);
                    listener.Start();
                    listeners.Add(listener);
                }

                return first;
            }
            catch (SocketException)
            {
                // Taken: try another range.
            }
            finally
            {
                listeners.ForEach(l => l.Stop());
            }
        }

        throw new InvalidOperationException("No free port range found.");
    }
}

/// <summary>The two quickstart runs (one per store) run one after the other, beside the other collections: each
/// picks its own free ports and directory.</summary>
[CollectionDefinition(QuickstartTests.Collection)]
public sealed class QuickstartCollection;
