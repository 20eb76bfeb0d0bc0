using System.Diagnostics;
using System.IO.Compression;

namespace ControlPlane.IntegrationTests.Client;

/// <summary><c>dotnet pack</c> of Client/ControlPlane.Client.csproj makes a package with the library, its XML docs, the
/// readme, and no licence claimed (the project has not chosen one).</summary>
public sealed class ClientPackageTests
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Dotnet_pack_makes_a_nupkg_with_the_library_docs_and_readme()
    {
        var root = RepositoryRoot();
        var output = Directory.CreateTempSubdirectory("client-pack-").FullName;
        try
        {
            // --no-build: the test run has built the project already; a second build would race the running tests' files.
            var (exitCode, log) = await RunAsync("dotnet", ["pack", Path.Combine(root, "Client", "ControlPlane.Client.csproj"), "-c", "Release", "--no-build", "-nologo", "-o", output]);

            Assert.True(exitCode == 0, $"dotnet pack exited {exitCode}:\n{log}");
            var package = Assert.Single(Directory.GetFiles(output, "ControlPlane.Client.*.nupkg"));
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("lib/net10.0/ControlPlane.Client.dll", entries);
            Assert.Contains("lib/net10.0/ControlPlane.Client.xml", entries);
            Assert.Contains("README.md", entries);
            using var nuspec = new StreamReader(zip.GetEntry("ControlPlane.Client.nuspec")!.Open());
            var manifest = await nuspec.ReadToEndAsync();
            Assert.DoesNotContain("<license", manifest, StringComparison.Ordinal); // no licence claimed until the project chooses one
            Assert.Contains("Microsoft.Extensions.Http.Resilience", manifest, StringComparison.Ordinal);
            Assert.Contains("ControlPlane.Contracts", manifest, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ControlPlane.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No ControlPlane.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task<(int ExitCode, string Log)> RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(PackTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet pack did not finish within {PackTimeout}: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
