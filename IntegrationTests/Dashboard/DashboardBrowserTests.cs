using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using OpenQA.Selenium;

namespace ControlPlane.IntegrationTests.Dashboard;

/// <summary>Browser tests of the dashboard (docs/dashboard.md): Debian's Chromium, headless, against a real etcd,
/// director and agents (<see cref="DashboardFixture"/>). Each test saves a screenshot under
/// <c>.test-results/dashboard/</c>, also when it fails.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardFixture cluster)
{
    private static readonly TimeSpan ApiDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_job_submitted_through_the_API_appears_and_turns_Succeeded_without_a_reload()
    {
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open("#/jobs");
            browser.SignIn(cluster.Token);
            browser.WaitForPage("jobs");
            // A reload would lose this: it proves the row changed in the page as it stands.
            browser.Script("window.__noReload = 'still here';");

            var job = await cluster.Api.SubmitAsync(DashboardFixture.Sleep(1.5, name: "appears-in-browser"));

            var row = By.CssSelector($"#jobs-body tr[data-id='{job.Id}']");
            browser.Until(d => d.FindElements(row).Count > 0, $"job {job.Id} to appear in the list");
            browser.Until(d => d.FindElement(row).FindElement(By.CssSelector(".state .badge")).GetAttribute("data-state") == "Succeeded", $"job {job.Id} to show Succeeded");
            Assert.Equal("still here", browser.Script("return window.__noReload;"));
            Assert.Equal(JobState.Succeeded, (await cluster.Api.GetJobAsync(job.Id))!.State);
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public async Task Cancel_on_the_job_page_cancels_a_running_job()
    {
        var job = await cluster.Api.SubmitAsync(DashboardFixture.Sleep(600, name: "cancel-in-browser"));
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open($"#/job/{job.Id}");
            browser.SignIn(cluster.Token);
            browser.WaitForPage("job");
            browser.Until(d => d.FindElement(By.CssSelector("#job-state .badge")).GetAttribute("data-state") == "Running", "the job to show Running");

            browser.Click(By.CssSelector("button[data-action='cancel']"), "the cancel button");
            browser.Click(By.CssSelector("button[data-action='confirm-cancel']"), "the confirmation");

            browser.Until(d => d.FindElement(By.CssSelector("#job-state .badge")).GetAttribute("data-state") == "Cancelled", "the job to show Cancelled");
            Assert.Empty(browser.Driver.FindElements(By.CssSelector("button[data-action='cancel']")));
            Assert.Equal(JobState.Cancelled, (await cluster.Api.GetJobAsync(job.Id))!.State);
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public async Task A_workflow_page_draws_the_graph_follows_its_states_and_links_its_jobs_both_ways()
    {
        static Contracts.Workflows.WorkflowNode Node(string nodeRef, params string[] after) => new()
        {
            Ref = nodeRef,
            Job = DashboardFixture.Sleep(0.3) with { DependsOn = after.Length == 0 ? null : [.. after.Select(a => new JobDependency { Ref = a })] },
        };
        var workflow = await cluster.Api.SubmitWorkflowAsync(new Contracts.Workflows.WorkflowSpec
        {
            Name = "diamond-in-browser",
            Jobs = [Node("extract"), Node("left", "extract"), Node("right", "extract"), Node("load", "left", "right")],
        });
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open($"#/workflow/{workflow.Id}");
            browser.SignIn(cluster.Token);
            browser.WaitForPage("workflow");
            Assert.Equal(4, browser.Driver.FindElements(By.CssSelector("#workflow-graph svg a[data-ref]")).Count);
            Assert.Equal(4, browser.Driver.FindElements(By.CssSelector("#workflow-graph svg line.edge")).Count);

            browser.Until(d => d.FindElement(By.Id("workflow-state")).GetAttribute("data-finished") == "true", "the workflow to show finished", ApiDeadline);
            Assert.All(browser.Driver.FindElements(By.CssSelector("#workflow-graph svg a[data-ref]")), a => Assert.Equal("Succeeded", a.GetAttribute("data-state")));

            var load = workflow.Jobs.Single(n => n.Ref == "load").Job;
            browser.Click(By.CssSelector($"#workflow-jobs tr[data-ref='load'] a"), "the load job's link");
            browser.WaitForPage("job");
            Assert.Equal(load, browser.Driver.FindElement(By.Id("job-id")).Text);
            Assert.Equal(workflow.Id, browser.Driver.FindElement(By.Id("workflow-link")).Text);
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public async Task Drain_on_the_workers_page_marks_the_worker_draining()
    {
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open("#/workers");
            browser.SignIn(cluster.Token);
            browser.WaitForPage("workers");
            var worker = DashboardFixture.DrainWorker;
            if (await StateAsync(worker) != "draining")
            {
                browser.Click(By.CssSelector($"button[data-action='drain'][data-worker='{worker}']"), "the drain button");
                browser.Click(By.CssSelector($"button[data-action='confirm-drain'][data-worker='{worker}']"), "the drain confirmation");
            }

            browser.Until(d => WorkerState(d, worker) == "draining", $"{worker} to show draining");
            await Eventually.UntilAsync(async () => await StateAsync(worker) == "draining", ApiDeadline, cluster.Describe);
            // A draining worker offers undrain, not drain.
            browser.Until(d => d.FindElements(By.CssSelector($"button[data-action='undrain'][data-worker='{worker}']")).Count == 1, "the undrain button");
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public async Task Undrain_on_the_workers_page_makes_a_draining_worker_ready_again()
    {
        var worker = DashboardFixture.DrainWorker;
        using (var http = Http(cluster.Token))
        using (var drain = await http.PostAsync(new Uri($"/v1/workers/{worker}/drain", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, drain.StatusCode);
        }

        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open("#/workers");
            browser.SignIn(cluster.Token);
            browser.WaitForPage("workers");
            browser.Until(d => WorkerState(d, worker) == "draining", $"{worker} to show draining");

            browser.Click(By.CssSelector($"button[data-action='undrain'][data-worker='{worker}']"), "the undrain button");

            browser.Until(d => WorkerState(d, worker) == "ready", $"{worker} to show ready");
            Assert.Empty(browser.Driver.FindElements(By.CssSelector(".notice.error")));
            await Eventually.UntilAsync(async () => await StateAsync(worker) == "ready", ApiDeadline, cluster.Describe);
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public async Task The_overview_counts_jobs_by_state_and_draws_the_throughput()
    {
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open("#/overview");
            browser.SignIn(cluster.Token);
            browser.WaitForPage("overview");
            var before = SucceededTile(browser.Driver);
            var jobs = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => cluster.Api.SubmitAsync(DashboardFixture.Sleep(0.2 + (i * 0.3), name: $"overview-{i}"))));
            foreach (var job in jobs)
            {
                await cluster.Api.WaitForTerminalAsync(job.Id, ApiDeadline);
            }

            // The leader publishes its counts at most once a second; the page reads them every five.
            browser.Until(d => SucceededTile(d) >= before + jobs.Length, "the Succeeded tile to count the new jobs");
            browser.Until(d => d.FindElements(By.CssSelector("#throughput polyline.series")).Count == 1, "the throughput chart to draw a line");
            Assert.Equal("director-ui", browser.Driver.FindElement(By.Id("leader-id")).Text);
            Assert.Equal("etcd", browser.Driver.FindElement(By.Id("store-backend")).Text);
        }
        finally
        {
            browser.Screenshot();
        }
    }

    private static int SucceededTile(IWebDriver driver) =>
        driver.FindElements(By.CssSelector("#counts a.count[data-state='Succeeded'] .n")).FirstOrDefault() is { } tile && int.TryParse(tile.Text, out var n) ? n : -1;

    [Fact]
    public void Without_a_token_the_page_asks_for_one_and_refuses_a_wrong_one()
    {
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open();
            browser.Until(d => d.FindElement(By.Id("login")).Displayed, "the token form");
            Assert.Empty(browser.Driver.FindElements(By.CssSelector("main#view *")));

            browser.Driver.FindElement(By.Id("token")).SendKeys("not-a-valid-token");
            browser.Driver.FindElement(By.Id("login-submit")).Click();
            browser.Until(d => d.FindElement(By.Id("login-error")).Text.Contains("not accepted", StringComparison.Ordinal), "the form to refuse a wrong token");
            Assert.Null(browser.Script("return sessionStorage.getItem('controlplane.token');"));

            browser.SignIn(cluster.Token);
            browser.WaitForPage("overview");
            browser.Until(d => d.FindElement(By.Id("leader-id")).Text == "director-ui", "the overview to name the leader");
            Assert.Equal("full access", browser.Driver.FindElement(By.Id("role")).Text);
        }
        finally
        {
            browser.Screenshot();
        }
    }

    [Fact]
    public async Task A_read_only_token_sees_no_buttons_where_a_full_token_sees_them()
    {
        var scheduleId = await CreateScheduleAsync();
        var running = cluster.Blocker.Id;
        // The same pages, first with the full token: the buttons are there, so their absence below means something.
        string[] pages = [$"#/job/{running}", "#/workers", "#/schedules", "#/jobs", "#/overview"];
        using var browser = new DashboardBrowser(cluster.Director.Url);
        try
        {
            browser.Open();
            browser.SignIn(cluster.Token);
            var full = pages.ToDictionary(page => page, page => Buttons(browser, page));
            Assert.True(full[$"#/job/{running}"] > 0, "the job page offers cancel to a full token");
            Assert.True(full["#/workers"] > 0, "the workers page offers drain or undrain to a full token");
            Assert.True(full["#/schedules"] > 0, "the schedules page offers pause and trigger to a full token");
            Assert.NotNull(scheduleId);

            browser.Click(By.Id("signout"), "the forget-token button");
            browser.SignIn(DashboardFixture.ReadOnlyToken);
            Assert.Equal("read-only", browser.Driver.FindElement(By.Id("role")).Text);
            foreach (var page in pages)
            {
                Assert.True(Buttons(browser, page) == 0, $"{page} shows a mutating button to a read-only token");
            }
        }
        finally
        {
            browser.Screenshot();
        }
    }

    // Loads a page, waits until it has read its data, and counts the buttons that would change something.
    private static int Buttons(DashboardBrowser browser, string page)
    {
        browser.Go(page);
        browser.WaitForPage(page.Split('/')[1]);
        if (page.StartsWith("#/schedules", StringComparison.Ordinal) || page.StartsWith("#/workers", StringComparison.Ordinal))
        {
            browser.Until(d => d.FindElements(By.CssSelector("tbody tr[data-id]")).Count > 0, $"rows on {page}");
        }

        return browser.Driver.FindElements(By.CssSelector("button[data-action]")).Count;
    }

    private static string? WorkerState(IWebDriver driver, string worker) =>
        driver.FindElements(By.CssSelector($"#workers-body tr[data-id='{worker}'] .state .badge")).FirstOrDefault()?.GetAttribute("data-state");

    private async Task<string?> StateAsync(string worker) =>
        (await cluster.Api.WorkersAsync()).FirstOrDefault(w => w.Id == worker)?.State;

    private async Task<string> CreateScheduleAsync()
    {
        using var http = Http(cluster.Token);
        var body = new { name = "dashboard-hourly", cron = "0 * * * *", job = new { executor = "echo", constraints = new Dictionary<string, string> { ["zone"] = "ui" } } };
        using var response = await http.PostAsJsonAsync(new Uri("/v1/schedules", UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    private HttpClient Http(string token)
    {
        var http = new HttpClient { BaseAddress = cluster.Director.Url, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}

/// <summary>The browser tests share one <see cref="DashboardFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardFixture>
{
    /// <summary>Collection name.</summary>
    public const string Name = "dashboard";
}
