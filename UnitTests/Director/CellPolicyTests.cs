using ControlPlane.Contracts;
using ControlPlane.Contracts.Directors;
using ControlPlane.Coordination;
using ControlPlane.Director.Api;
using ControlPlane.Director.Doctor;
using ControlPlane.Director.Hosting;

namespace ControlPlane.UnitTests.Director;

/// <summary>Version-gated leadership (docs/cells.md): which versions a policy allows, what it refuses as a pattern, how a
/// damaged record reads, and what <c>GET /v1/cells</c> says about a cell that waits.</summary>
public sealed class CellPolicyTests
{
    [Theory]
    [InlineData("2.4.1", "2.4.1", true)]
    [InlineData("2.4.1", "2.4.10", false)]
    [InlineData("2.4.*", "2.4.10", true)]
    [InlineData("2.4.*", "2.5.0", false)]
    [InlineData("2.*", "2.0.0+abc", true)]
    [InlineData("*", "anything-1", true)]
    [InlineData("2.4", "2.4.0", false)]
    [InlineData("Canary", "canary", false)]
    public void A_pattern_matches_its_exact_version_or_prefix_only(string pattern, string version, bool allowed) =>
        Assert.Equal(allowed, CellPolicies.Allows([pattern], version));

    [Fact]
    public void Any_pattern_of_a_list_admits_a_version() =>
        Assert.True(CellPolicies.Allows(["1.*", "2.0.0"], "2.0.0"));

    [Theory]
    [InlineData(new string[0], "1 to 16")]
    [InlineData(new[] { "2.*.1" }, "'*' may only end a pattern")]
    [InlineData(new[] { "2.4 " }, "has ' ' at 3")]
    [InlineData(new[] { "" }, "1 to 64 characters")]
    public void Bad_patterns_are_refused_saying_why(string[] patterns, string expected) =>
        Assert.Contains(expected, CellPolicies.PatternsProblem(patterns), StringComparison.Ordinal);

    [Fact]
    public void More_than_sixteen_patterns_are_refused() =>
        Assert.Contains("at most 16", CellPolicies.PatternsProblem([.. Enumerable.Range(0, 17).Select(i => $"1.{i}")]), StringComparison.Ordinal);

    [Fact]
    public void A_version_may_not_carry_a_wildcard()
    {
        Assert.Null(CellPolicies.VersionProblem("1.0.0+build.7"));
        Assert.Contains("'*'", CellPolicies.VersionProblem("1.*"), StringComparison.Ordinal);
        Assert.Contains("Director:Version", string.Join(" ", new DirectorOptions { Id = "d1", Version = "1 0" }.Problems()), StringComparison.Ordinal);
    }

    [Fact]
    public void No_policy_allows_every_version_and_a_policy_names_what_it_allows()
    {
        Assert.Null(CellPolicyReads.Veto(null, "0.1"));
        var policy = new CellPolicyRecord { Cell = "canary", AllowedVersions = ["2.*"] };
        Assert.Null(CellPolicyReads.Veto(policy, "2.0.0"));
        Assert.Equal("its policy allows versions 2.*; this director runs 1.0.0", CellPolicyReads.Veto(policy, "1.0.0"));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"cell\":\"canary\",\"allowedVersions\":[\"2.*.*\"]}")]
    [InlineData("{\"cell\":\"other\",\"allowedVersions\":[\"2.*\"]}")]
    [InlineData("{\"cell\":\"canary\",\"allowedVersions\":[]}")]
    public void A_damaged_policy_record_allows_no_version_rather_than_every_one(string json)
    {
        var policy = CellPolicyReads.Parse(new StoreItem(StoreLayout.CellPolicy("canary"), System.Text.Encoding.UTF8.GetBytes(json), 1, 1, 1, 0));
        Assert.NotNull(policy);
        Assert.Contains("damaged", CellPolicyReads.Veto(policy, "2.0.0"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_waiting_cell_names_the_versions_allowed_and_those_that_run()
    {
        DirectorRecord[] directors = [new() { Id = "d2", Version = "1.0.0" }, new() { Id = "d1", Version = "1.0.0" }, new() { Id = "d3", Version = "1.1.0" }];
        var policy = new CellPolicyRecord { Cell = "canary", AllowedVersions = ["2.*"] };
        Assert.Equal(
            "No live director runs a version its policy allows (2.*); live directors run 1.0.0 (d1, d2); 1.1.0 (d3). Start one, or change the policy (cpctl cell pin|unpin).",
            CellQueries.Waiting(policy, directors));
        Assert.StartsWith("No leader yet", CellQueries.Waiting(policy with { AllowedVersions = ["1.1.*"] }, directors), StringComparison.Ordinal);
        Assert.Equal("No director is running.", CellQueries.Waiting(null, []));
    }

    [Fact]
    public void The_doctor_fails_a_cell_without_a_leader_and_warns_about_one_without_workers()
    {
        var report = DoctorVerdicts.Cells(
        [
            new CellView(Cells.Default, "d1", "http://d1", 10, 3, 0) { AllowedVersions = ["1.*"] },
            new CellView("canary", null, null, null, 2, null) { AllowedVersions = ["2.*"], Waiting = "No live director runs a version its policy allows (2.*)" },
            new CellView("eu", "d1", "http://d1", 12, 0, 4),
        ]);
        Assert.Equal(Contracts.Doctor.CheckStatus.Fail, report.Status);
        Assert.Contains("cell canary has no leader: No live director runs a version its policy allows (2.*)", report.Summary, StringComparison.Ordinal);
        Assert.Contains("cell eu has no worker", report.Summary, StringComparison.Ordinal);
        Assert.StartsWith("3 cells, 2 with a leader, 2 pinned to director versions", report.Summary, StringComparison.Ordinal);
        Assert.Contains("canary: leader none, 2 workers, pending unknown, versions 2.*", report.Details!);
        Assert.NotNull(report.Action);

        // One cell without a policy: the leader check speaks for it.
        var single = DoctorVerdicts.Cells([new CellView(Cells.Default, null, null, null, 0, null)]);
        Assert.Equal((Contracts.Doctor.CheckStatus.Ok, "one cell (default)"), (single.Status, single.Summary));
    }
}
