using ControlPlane.TestSupport;

namespace ControlPlane.UnitTests.TestSupport;

public sealed class EventuallyTests
{
    [Fact]
    public async Task UntilAsync_returns_once_the_condition_holds()
    {
        var checks = 0;
        await Eventually.UntilAsync(() => ++checks >= 3, TimeSpan.FromSeconds(10));
        Assert.Equal(3, checks);
    }

    [Fact]
    public async Task UntilAsync_reports_the_expression_and_what_was_seen_on_timeout()
    {
        var value = 41;
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.UntilAsync(() => value == 42, TimeSpan.FromMilliseconds(50), () => $"value={value}"));

        Assert.Contains("value == 42", error.Message, StringComparison.Ordinal);
        Assert.Contains("Seen: value=41", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntilAsync_treats_a_throwing_check_as_not_yet_and_reports_the_last_error()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.UntilAsync(new Func<bool>(() => throw new InvalidOperationException("still starting")), TimeSpan.FromMilliseconds(50)));

        Assert.Contains("still starting", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public async Task WithinAsync_names_what_did_not_happen()
    {
        var never = new TaskCompletionSource<int>();
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.WithinAsync(never.Task, TimeSpan.FromMilliseconds(20), "the reply"));

        Assert.StartsWith("the reply did not happen", error.Message, StringComparison.Ordinal);
    }
}
