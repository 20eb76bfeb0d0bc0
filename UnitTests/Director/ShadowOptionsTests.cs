using ControlPlane.Director.Hosting;

namespace ControlPlane.UnitTests.Director;

/// <summary><c>Director:Mode</c> and <c>Director:ShadowCell</c> (docs/cells.md, "Shadow directors"): validated at start.</summary>
public sealed class ShadowOptionsTests
{
    [Fact]
    public void A_director_is_normal_by_default_and_a_shadow_follows_the_default_cell()
    {
        var options = new DirectorOptions { Id = "d1", Version = "1.0.0" };
        Assert.Empty(options.Problems());
        Assert.False(options.IsShadow);
        Assert.Equal("default", options.ShadowCell);
        Assert.True(new DirectorOptions { Id = "d1", Version = "1.0.0", Mode = "Shadow" }.IsShadow);
    }

    [Fact]
    public void An_unknown_mode_and_a_bad_cell_name_are_refused_saying_what_is_allowed()
    {
        var problems = new DirectorOptions { Id = "d1", Version = "1.0.0", Mode = "spy", ShadowCell = "Cell_A" }.Problems().ToList();

        Assert.Equal(2, problems.Count);
        Assert.Equal("Director:Mode must be 'normal' or 'shadow'; got 'spy'.", problems[0]);
        Assert.StartsWith("Director:ShadowCell: Cell name 'Cell_A' has 'C' at 0", problems[1], StringComparison.Ordinal);
    }
}
