using System.Diagnostics;
using System.Text.RegularExpressions;
using ControlPlane.IntegrationTests.Dashboard;

namespace ControlPlane.IntegrationTests.Operations;

/// <summary>
/// The shipped alert rules (<c>deploy/prometheus/controlplane-rules.yml</c>) are valid for Prometheus, behave as
/// their unit tests say, and use only series docs/operations.md documents (so a renamed series cannot silently turn
/// an alert into one that never fires). <c>promtool</c> is Debian's (package <c>prometheus</c>), which ./test.sh
/// installs: a missing <c>promtool</c> fails these tests rather than skipping them.
/// </summary>
public sealed partial class PrometheusRulesTests
{
    private static readonly string Folder = Path.Combine(DashboardBrowser.RepositoryRoot(), "deploy", "prometheus");

    [Fact]
    public async Task Promtool_accepts_the_rules()
    {
        var (exitCode, output) = await PromtoolAsync("check", "rules", "controlplane-rules.yml");

        Assert.True(exitCode == 0, $"promtool check rules failed:\n{output}");
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_rules_pass_their_promtool_unit_tests()
    {
        var (exitCode, output) = await PromtoolAsync("test", "rules", "controlplane-rules.test.yml");

        Assert.True(exitCode == 0, $"promtool test rules failed:\n{output}");
    }

    [Fact]
    public void Every_series_the_rules_and_their_tests_use_is_documented()
    {
        var documented = DocumentedSeries.Read().Values.SelectMany(names => names).ToHashSet(StringComparer.Ordinal);
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in (string[])["controlplane-rules.yml", "controlplane-rules.test.yml"])
        {
            foreach (Match match in SeriesName().Matches(File.ReadAllText(Path.Combine(Folder, file))))
            {
                used.Add(match.Value);
            }
        }

        // A histogram is documented by its family name; rules read its _bucket, _sum or _count samples.
        var undocumented = used
            .Where(name => !documented.Contains(name) && !documented.Contains(HistogramSuffix().Replace(name, "")))
            .ToList();

        Assert.NotEmpty(used);
        Assert.True(undocumented.Count == 0, $"used in deploy/prometheus but not documented in docs/operations.md, section 4: {string.Join(", ", undocumented)}");
    }

    /// <summary>Runs promtool in the rules' folder (rule_files are relative to the test file); bounded to a minute.</summary>
    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("promtool is not installed: install Debian's package 'prometheus' (./test.sh does).");
        var start = new ProcessStartInfo(promtool)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await error);
    }

    [GeneratedRegex("controlplane_[a-z0-9_]+")]
    private static partial Regex SeriesName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}
