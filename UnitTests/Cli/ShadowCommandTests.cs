using System.Net;
using ControlPlane.Contracts.Directors;

namespace ControlPlane.UnitTests.Cli;

/// <summary><c>cpctl shadow &lt;cell&gt;</c> (docs/cells.md, "Shadow directors").</summary>
public sealed class ShadowCommandTests
{
    [Fact]
    public async Task Shadow_prints_each_shadows_counts_then_its_last_differences()
    {
        IReadOnlyList<ShadowReport> shadows =
        [
            new() { DirectorId = "s-pack", Version = "1.2", Cell = "eu-1", Placement = "pack", Since = CliHarness.Start.AddMinutes(-5), Following = true, Agree = 7, Differ = 1, Unplanned = 2, Late = 3, Outstanding = 4,
                Differences = [new ShadowDifference("job-1", 2, "w-b", "w-a", CliHarness.Start.AddSeconds(-30))] },
            new() { DirectorId = "s-same", Version = "1.2", Cell = "eu-1", Placement = "spread", Since = CliHarness.Start.AddMinutes(-5), Following = true, Agree = 10 },
        ];
        var cli = new CliHarness(_ => FakeApi.Json(shadows));

        var run = await cli.RunAsync("shadow", "eu-1");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("/v1/cells/eu-1/shadow", Assert.Single(cli.Api.Requests).PathAndQuery);
        var lines = run.Out.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["SHADOW", "VERSION", "PLACEMENT", "SINCE", "AGREE", "DIFFER", "UNPLANNED", "LATE", "OUTSTANDING"], Words(lines[0]));
        Assert.Equal(["s-pack", "1.2", "pack", "5m", "7", "1", "2", "3", "4"], Words(lines[1]));
        Assert.Equal(["s-same", "1.2", "spread", "5m", "10", "0", "0", "0", "0"], Words(lines[2]));
        Assert.Equal("Last differences of s-pack:", lines[3]);
        Assert.Equal(["job-1", "2", "w-b", "w-a", "30s", "ago"], Words(lines[5]));
    }

    [Fact]
    public async Task No_shadow_says_so_and_an_unknown_cell_is_an_error()
    {
        var none = new CliHarness(_ => FakeApi.Json(Array.Empty<ShadowReport>()));
        var unknown = new CliHarness(_ => FakeApi.Problem(HttpStatusCode.NotFound, "Not found.", "No cell 'eu-9'."));

        var empty = await none.RunAsync("shadow", "default");
        var missing = await unknown.RunAsync("shadow", "eu-9");

        Assert.Equal(0, empty.ExitCode);
        Assert.Equal("No shadow director follows cell default.", empty.Out.Trim());
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("No cell 'eu-9'", missing.Error, StringComparison.Ordinal);
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
