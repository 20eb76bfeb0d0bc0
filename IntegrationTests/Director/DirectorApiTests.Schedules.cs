using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    private static readonly object EchoJob = new { executor = "shell", command = new[] { "/bin/echo", "tick" } };

    [Theory]
    [InlineData("cron", """{"cron":"61 * * * *","job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("cron", """{"cron":"* * *","job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("cron", """{"job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("timeZone", """{"cron":"* * * * *","timeZone":"Mars/Olympus","job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("maxCatchUp", """{"cron":"* * * * *","catchUp":"all","maxCatchUp":-1,"job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("maxCatchUp", """{"cron":"* * * * *","maxCatchUp":5,"job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("startingDeadlineSeconds", """{"cron":"* * * * *","startingDeadlineSeconds":-5,"job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("job", """{"cron":"* * * * *"}""")]
    [InlineData("job.executor", """{"cron":"* * * * *","job":{"executor":""}}""")]
    [InlineData("job.slots", """{"cron":"* * * * *","job":{"executor":"shell","command":["/bin/true"],"slots":0}}""")]
    [InlineData("concurrency", """{"cron":"* * * * *","concurrency":"sometimes","job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("catchUpPolicy", """{"cron":"* * * * *","catchUpPolicy":"all","job":{"executor":"shell","command":["/bin/true"]}}""")]
    [InlineData("job.maxAttemps", """{"cron":"* * * * *","job":{"executor":"shell","command":["/bin/true"],"maxAttemps":5}}""")]
    public async Task A_bad_schedule_is_refused_naming_its_field_and_nothing_is_written(string field, string body)
    {
        using var response = await Client.PostAsync("/v1/schedules", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await AssertFieldErrorAsync(response, field);

        using var list = await Client.GetAsync("/v1/schedules");
        Assert.Empty((await ReadAsync<SchedulePage>(list)).Items);
    }

    [Fact]
    public async Task A_schedule_is_created_read_listed_changed_and_deleted_and_a_keyed_create_is_replayed()
    {
        var spec = new { name = "nightly", cron = "0 3 * * *", timeZone = "Europe/Berlin", job = EchoJob, concurrency = "forbid" };
        using var created = await PostScheduleAsync(spec, "nightly-key");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = await ReadAsync<ScheduleView>(created);
        Assert.Equal($"/v1/schedules/{view.Id}", created.Headers.Location?.OriginalString);
        Assert.Equal(("nightly", ConcurrencyPolicy.Forbid, CatchUpPolicy.Latest), (view.Spec.Name, view.Spec.Concurrency, view.Spec.CatchUp));
        var local = TimeZoneInfo.ConvertTime(view.NextTick!.Value, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        Assert.Equal((3, 0), (local.Hour, local.Minute));

        // The same key and definition: the same schedule, 200, nothing new; another definition: 409.
        using (var replay = await PostScheduleAsync(spec, "nightly-key"))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(view.Id, (await ReadAsync<ScheduleView>(replay)).Id);
        }

        using (var conflict = await PostScheduleAsync(spec with { cron = "0 4 * * *" }, "nightly-key"))
        {
            await AssertProblemAsync(conflict, HttpStatusCode.Conflict);
        }

        using (var list = await Client.GetAsync("/v1/schedules"))
        {
            Assert.Equal([view.Id], (await ReadAsync<SchedulePage>(list)).Items.Select(s => s.Id));
        }

        using (var put = await Client.PutAsJsonAsync($"/v1/schedules/{view.Id}", spec with { cron = "15 3 * * *" }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.Equal("15 3 * * *", (await ReadAsync<ScheduleView>(put)).Spec.Cron);
        }

        using (var bad = await Client.PutAsJsonAsync($"/v1/schedules/{view.Id}", spec with { cron = "nonsense" }))
        {
            await AssertFieldErrorAsync(bad, "cron");
        }

        using (var unknown = await Client.PutAsync(
                   $"/v1/schedules/{view.Id}",
                   new StringContent("""{"cron":"0 3 * * *","job":{"executor":"shell","command":["/bin/true"]},"catchUpp":"all"}""", System.Text.Encoding.UTF8, "application/json")))
        {
            await AssertFieldErrorAsync(unknown, "catchUpp");
            Assert.Equal("15 3 * * *", (await GetScheduleAsync(view.Id)).Spec.Cron); // nothing written
        }

        using (var paused = await Client.PostAsync($"/v1/schedules/{view.Id}/pause", null))
        {
            var pausedView = await ReadAsync<ScheduleView>(paused);
            Assert.True(pausedView.Spec.Paused);
            Assert.Null(pausedView.NextTick);
        }

        using (var deleted = await Client.DeleteAsync($"/v1/schedules/{view.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var gone = await Client.GetAsync($"/v1/schedules/{view.Id}"))
        {
            await AssertProblemAsync(gone, HttpStatusCode.NotFound);
        }

        using (var badId = await Client.GetAsync("/v1/schedules/not-an-id"))
        {
            await AssertFieldErrorAsync(badId, "id");
        }
    }

    [Fact]
    public async Task Trigger_runs_the_job_once_now_and_the_schedule_records_it()
    {
        var view = await CreateScheduleAsync(new { cron = "0 0 1 1 *", job = EchoJob });
        using var triggered = await Client.PostAsync($"/v1/schedules/{view.Id}/trigger", null);
        Assert.Equal(HttpStatusCode.Created, triggered.StatusCode);
        var job = await ReadAsync<JobView>(triggered);
        Assert.Equal(view.Id, job.ScheduleId);
        Assert.NotNull(job.ScheduledFor);

        var after = await GetScheduleAsync(view.Id);
        Assert.Equal(1, after.Triggered);
        var run = Assert.Single(after.Recent);
        Assert.Equal((TickOutcome.Triggered, job.Id), (run.Outcome, run.JobId));

        using var listed = await Client.GetAsync($"/v1/jobs?schedule={view.Id}");
        Assert.Equal([job.Id], (await ReadAsync<JobPage>(listed)).Items.Select(j => j.Id));
        using var badFilter = await Client.GetAsync("/v1/jobs?schedule=nope");
        await AssertFieldErrorAsync(badFilter, "schedule");
    }

    [Fact]
    public async Task The_leader_fires_each_tick_once_forbid_skips_while_a_run_is_active_and_pause_fires_nothing()
    {
        StartDirector(runtime: true); // campaigns, leads and fires; no agent, so every run stays Pending (active)
        var every = await CreateScheduleAsync(new { cron = "* * * * * *", job = EchoJob });
        var forbid = await CreateScheduleAsync(new { cron = "* * * * * *", job = EchoJob, concurrency = "forbid" });

        var seen = await Eventually.UntilAsync(async () => await GetScheduleAsync(forbid.Id), s => s.Skipped >= 2, Deadline);
        Assert.Equal(1, seen.Fired);
        Assert.Contains(seen.Recent, r => r.Outcome == TickOutcome.Skipped && r.Detail!.Contains("still Pending", StringComparison.Ordinal));
        Assert.Single(await JobsOfAsync(forbid.Id));

        // Pause, let the leader's clock pass two ticks of the other schedule, resume: no paused tick ever fires.
        using (var paused = await Client.PostAsync($"/v1/schedules/{every.Id}/pause", null))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        }

        var pausedAt = (await GetScheduleAsync(every.Id)).LastTick ?? every.Anchor;
        var clock = await Eventually.UntilAsync(async () => await GetScheduleAsync(forbid.Id), s => s.LastTick >= pausedAt.AddSeconds(3), Deadline);
        using (var resumed = await Client.PostAsync($"/v1/schedules/{every.Id}/resume", null))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }

        var resumedView = await GetScheduleAsync(every.Id);
        var afterResume = await Eventually.UntilAsync(async () => await GetScheduleAsync(every.Id), s => s.LastTick > resumedView.Anchor.AddSeconds(1), Deadline);
        var ticks = (await JobsOfAsync(every.Id)).Select(j => j.ScheduledFor!.Value).Order().ToList();
        Assert.DoesNotContain(ticks, t => t > pausedAt && t <= resumedView.Anchor);
        Assert.Equal(ticks.Distinct().Count(), ticks.Count);
        Assert.Equal(afterResume.Fired, ticks.Count(t => t <= afterResume.LastTick));
        Assert.True(clock.LastTick > pausedAt);
    }

    [Fact]
    public async Task Replace_cancels_the_active_run_when_the_next_tick_fires()
    {
        StartDirector(runtime: true);
        var replace = await CreateScheduleAsync(new { cron = "* * * * * *", job = EchoJob, concurrency = "replace" });
        await Eventually.UntilAsync(async () => await GetScheduleAsync(replace.Id), s => s.Fired >= 3, Deadline);
        await Client.PostAsync($"/v1/schedules/{replace.Id}/pause", null);

        var jobs = await Eventually.UntilAsync(
            () => JobsOfAsync(replace.Id),
            js => js.Count(j => j.State == JobState.Pending) == 1 && js.Count(j => j.State == JobState.Cancelled) == js.Count - 1,
            Deadline);
        var newest = jobs.MaxBy(j => j.ScheduledFor)!;
        Assert.Equal(JobState.Pending, newest.State);
        Assert.All(jobs.Where(j => j != newest), j => Assert.StartsWith("replaced by the run of tick", j.Error, StringComparison.Ordinal));
    }

    private async Task<HttpResponseMessage> PostScheduleAsync<T>(T spec, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/schedules") { Content = JsonContent.Create(spec) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await Client.SendAsync(request);
    }

    private async Task<ScheduleView> CreateScheduleAsync<T>(T spec)
    {
        using var response = await PostScheduleAsync(spec);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await ReadAsync<ScheduleView>(response);
    }

    private async Task<ScheduleView> GetScheduleAsync(string id)
    {
        using var response = await Client.GetAsync($"/v1/schedules/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadAsync<ScheduleView>(response);
    }

    private async Task<IReadOnlyList<JobView>> JobsOfAsync(string scheduleId)
    {
        using var response = await Client.GetAsync($"/v1/jobs?schedule={scheduleId}&limit=500");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await ReadAsync<JobPage>(response);
        Assert.Null(page.Cursor); // few enough for one page
        return page.Items;
    }
}
