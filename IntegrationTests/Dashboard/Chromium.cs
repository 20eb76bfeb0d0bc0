namespace ControlPlane.IntegrationTests.Dashboard;

/// <summary>
/// Where the browser tests find Debian's <c>chromium</c> and <c>chromium-driver</c>: <c>/usr/bin/chromium</c> and
/// <c>/usr/bin/chromedriver</c>, or <c>CP_CHROMIUM</c> / <c>CP_CHROMEDRIVER</c> when set. Both paths are given to
/// Selenium explicitly, so Selenium Manager never looks for (or downloads) a browser or a driver.
/// </summary>
public static class Chromium
{
    /// <summary>The browser binary.</summary>
    public static string Browser => Environment.GetEnvironmentVariable("CP_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>The driver binary.</summary>
    public static string Driver => Environment.GetEnvironmentVariable("CP_CHROMEDRIVER") is { Length: > 0 } path ? path : "/usr/bin/chromedriver";

    /// <summary>Throws with what to install when either binary is missing: the browser tests fail, never skip.</summary>
    /// <exception cref="InvalidOperationException">A binary is missing.</exception>
    public static void EnsureInstalled()
    {
        var missing = new[] { (Browser, "chromium"), (Driver, "chromium-driver") }.Where(b => !File.Exists(b.Item1)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The dashboard's browser tests need Debian's {string.Join(" and ", missing.Select(m => m.Item2))} " +
                $"(missing: {string.Join(", ", missing.Select(m => m.Item1))}). Install them with " +
                "`apt-get install -y chromium chromium-driver` (./test.sh does), or point CP_CHROMIUM / CP_CHROMEDRIVER at them.");
        }
    }
}
