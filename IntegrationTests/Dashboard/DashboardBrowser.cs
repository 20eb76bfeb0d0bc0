using System.Runtime.CompilerServices;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace ControlPlane.IntegrationTests.Dashboard;

/// <summary>
/// One headless Chromium session on a director's dashboard: a fresh profile (so an empty sessionStorage, no token),
/// bounded waits that say what they waited for and what the page logged, and a screenshot per test under
/// <c>.test-results/dashboard/</c> of the repository.
/// </summary>
public sealed class DashboardBrowser : IDisposable
{
    /// <summary>The longest any single wait on the page takes before the test fails.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly ChromeDriver _driver;
    private readonly Uri _director;

    /// <summary>Starts Chromium through chromedriver; fails with what to install when either is missing.</summary>
    public DashboardBrowser(Uri director)
    {
        Chromium.EnsureInstalled();
        _director = director;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Chromium.Driver)!, Path.GetFileName(Chromium.Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Chromium.Browser };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>The driver, for what the helpers do not cover.</summary>
    public IWebDriver Driver => _driver;

    /// <summary>Loads <c>/ui/</c> with <paramref name="hash"/> (e.g. <c>#/jobs</c>).</summary>
    public void Open(string hash = "") => _driver.Navigate().GoToUrl(new Uri(_director, "/ui/" + hash));

    /// <summary>Changes the route without a reload, as a click on a link does.</summary>
    public void Go(string hash) => Script("location.hash = arguments[0];", hash);

    /// <summary>Fills the token form and waits until the app has taken the token (the form is hidden).</summary>
    public void SignIn(string token)
    {
        var input = Until(d => d.FindElements(By.Id("token")).FirstOrDefault(e => e.Displayed), "the token form")!;
        input.Clear();
        input.SendKeys(token);
        _driver.FindElement(By.Id("login-submit")).Click();
        Until(d => !d.FindElement(By.Id("login")).Displayed, "the token form to be accepted");
    }

    /// <summary>Waits until the current page has read its data (<c>main[data-loaded]</c>) for <paramref name="page"/>.</summary>
    public void WaitForPage(string page) =>
        Until(d => d.FindElements(By.CssSelector($"main#view[data-page='{page}'][data-loaded='true']")).Count > 0, $"the {page} page to load");

    /// <summary>Waits for <paramref name="condition"/> to return a non-null, non-false value; on timeout fails naming
    /// <paramref name="what"/>, with the page's console messages.</summary>
    public T Until<T>(Func<IWebDriver, T> condition, string what, TimeSpan? timeout = null)
    {
        var wait = new WebDriverWait(_driver, timeout ?? DefaultTimeout) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        // The page re-renders rows as they change: an element read a moment ago may be gone; that is "not yet".
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        try
        {
            return wait.Until(condition);
        }
        catch (WebDriverTimeoutException e)
        {
            throw new TimeoutException($"Waited {(timeout ?? DefaultTimeout).TotalSeconds} s for {what}. Browser console:\n{ConsoleLog()}\nPage text:\n{Text()}", e);
        }
    }

    /// <summary>Clicks the element <paramref name="selector"/> finds once it is there and enabled, retrying a click
    /// that lands on an element the page has just replaced.</summary>
    public void Click(By selector, string what) =>
        Until(d =>
        {
            var element = d.FindElements(selector).FirstOrDefault(e => e.Displayed && e.Enabled);
            if (element is null)
            {
                return false;
            }

            element.Click();
            return true;
        }, what);

    /// <summary>Runs <paramref name="script"/> in the page and returns its result.</summary>
    public object? Script(string script, params object[] arguments) => _driver.ExecuteScript(script, arguments);

    /// <summary>Runs <paramref name="script"/> (an async function body ending with a call of the callback
    /// <c>arguments[arguments.length - 1]</c>) and returns what it passed.</summary>
    public object? RunAsync(string script)
    {
        _driver.Manage().Timeouts().AsynchronousJavaScript = DefaultTimeout;
        return _driver.ExecuteAsyncScript(script);
    }

    /// <summary>The visible text of the page (for failure messages).</summary>
    public string Text()
    {
        try
        {
            return _driver.FindElement(By.TagName("body")).Text;
        }
        catch (WebDriverException e)
        {
            return $"(unreadable: {e.Message})";
        }
    }

    /// <summary>Saves a PNG of the page as <c>.test-results/dashboard/&lt;name&gt;.png</c>; returns its path.</summary>
    public string Screenshot([CallerMemberName] string name = "")
    {
        var directory = Path.Combine(RepositoryRoot(), ".test-results", "dashboard");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".png");
        _driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    /// <summary>The repository root: the nearest directory above the test binaries holding <c>ControlPlane.sln</c>.</summary>
    public static string RepositoryRoot()
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

    private string ConsoleLog()
    {
        try
        {
            return string.Join('\n', _driver.Manage().Logs.GetLog(LogType.Browser).Select(entry => $"{entry.Level}: {entry.Message}"));
        }
        catch (WebDriverException e)
        {
            return $"(unreadable: {e.Message})";
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _driver.Quit();
        _driver.Dispose();
    }
}
