using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.IntegrationTests.Director;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Client;

/// <summary>
/// ControlPlane.Client against a real director (hosted in the test) on a real store: one subclass per backend. The
/// director runs without an agent, so jobs stay Pending until cancelled, which is what the waits here watch for.
/// </summary>
public abstract class ClientApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private DirectorHost? _director;
    private HttpMessageHandler? _handler;
    private ControlPlaneClient? _client;

    /// <summary><c>zookeeper</c> or <c>etcd</c>.</summary>
    protected abstract string Backend { get; }

    /// <summary>The shared server's client endpoints.</summary>
    protected abstract string Endpoints { get; }

    private ControlPlaneClient Client => _client ?? throw new InvalidOperationException("Not initialized.");

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        _director = new DirectorHost(Backend, Endpoints, "t/" + TestNames.Unique("client"));
        _handler = _director.CreateHandler();
        _client = ControlPlaneClient.Create(
            o =>
            {
                o.Directors.Add(new Uri("http://localhost/"));
                o.Token = DirectorHost.Token;
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            },
            _handler);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        _client?.Dispose();
        _handler?.Dispose();
        if (_director is not null)
        {
            await _director.DisposeAsync();
        }
    }

    [Fact]
    public async Task Jobs_are_submitted_read_listed_explained_cancelled_and_waited_for()
    {
        var spec = new JobSpec { Name = "client-1", Executor = "shell", Command = ["/bin/echo", "hi"], Group = "client-group" };

        var job = await Client.SubmitJobAsync(spec, "client-key-1");
        var replay = await Client.SubmitJobAsync(spec, "client-key-1");
        var read = await Client.GetJobAsync(job.Id, job.Revision);
        var explained = await Client.ExplainJobAsync(job.Id);
        var listed = await Client.ListJobsAsync(new JobFilter { State = JobState.Pending, Group = "client-group", PageSize = 1, MinRevision = job.Revision }).ToListAsync();

        Assert.Equal(JobState.Pending, job.State);
        Assert.Equal(job.Id, replay.Id);
        Assert.Equal("client-1", read.Spec.Name);
        Assert.Equal(job.Id, explained.Id);
        Assert.Equal([job.Id], listed.Select(j => j.Id));

        // The watch starts on the Pending job and ends with the cancellation, seen through the same client.
        var states = new List<JobState>();
        var watch = Task.Run(async () =>
        {
            await foreach (var view in Client.WatchJobAsync(job.Id, Deadline, job.Revision))
            {
                states.Add(view.State);
            }
        });
        await Eventually.UntilAsync(() => states.Count > 0 || watch.IsCompleted, Deadline);
        var cancelled = await Client.CancelJobAsync(job.Id);
        await watch;
        var waited = await Client.WaitForJobAsync(job.Id, Deadline, cancelled.Revision);

        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal([JobState.Pending, JobState.Cancelled], states);
        Assert.Equal(JobState.Cancelled, waited.State);
    }

    [Fact]
    public async Task Error_answers_of_a_real_director_become_precise_exceptions()
    {
        var invalid = await Assert.ThrowsAsync<ControlPlaneValidationException>(() => Client.SubmitJobAsync(new JobSpec { Executor = "shell" }));
        var missing = await Assert.ThrowsAsync<ControlPlaneNotFoundException>(() => Client.GetJobAsync(JobIds.New()));
        var job = await Client.SubmitJobAsync(new JobSpec { Executor = "shell", Command = ["/bin/true"] }, "client-key-2");
        var reused = await Assert.ThrowsAsync<ControlPlaneConflictException>(() => Client.SubmitJobAsync(new JobSpec { Executor = "shell", Command = ["/bin/false"] }, "client-key-2"));
        await Client.CancelJobAsync(job.Id);
        var finished = await Assert.ThrowsAsync<ControlPlaneConflictException>(() => Client.CancelJobAsync(job.Id));

        Assert.Contains("command", invalid.Errors.Keys);
        Assert.Contains("command", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("No job", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Idempotency-Key was already used", reused.Message, StringComparison.Ordinal);
        Assert.Contains("already finished (Cancelled)", finished.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schedule_is_created_read_listed_replaced_paused_resumed_triggered_and_deleted()
    {
        var spec = new ScheduleSpec { Name = "nightly", Cron = "0 3 * * *", TimeZone = "Europe/Berlin", Job = new JobSpec { Executor = "shell", Command = ["/bin/true"] } };

        var created = await Client.CreateScheduleAsync(spec, "client-schedule-1");
        var again = await Client.CreateScheduleAsync(spec, "client-schedule-1");
        var read = await Client.GetScheduleAsync(created.Id, created.Revision);
        var listed = await Client.ListSchedulesAsync().ToListAsync();
        var replaced = await Client.ReplaceScheduleAsync(created.Id, spec with { Cron = "30 4 * * *" });
        var paused = await Client.PauseScheduleAsync(created.Id);
        var resumed = await Client.ResumeScheduleAsync(created.Id);
        var triggered = await Client.TriggerScheduleAsync(created.Id);
        var itsJobs = await Client.ListJobsAsync(new JobFilter { ScheduleId = created.Id, MinRevision = triggered.Revision }).ToListAsync();
        await Client.DeleteScheduleAsync(created.Id);

        Assert.Equal(created.Id, again.Id);
        Assert.Equal("Europe/Berlin", read.Spec.TimeZone);
        Assert.Contains(created.Id, listed.Select(s => s.Id));
        Assert.Equal("30 4 * * *", replaced.Spec.Cron);
        Assert.True(paused.Spec.Paused);
        Assert.False(resumed.Spec.Paused);
        Assert.Equal(created.Id, triggered.ScheduleId);
        Assert.Equal([triggered.Id], itsJobs.Select(j => j.Id));
        await Assert.ThrowsAsync<ControlPlaneNotFoundException>(() => Client.GetScheduleAsync(created.Id));
        var badCron = await Assert.ThrowsAsync<ControlPlaneValidationException>(() => Client.CreateScheduleAsync(spec with { Cron = "every day" }));
        Assert.Contains("cron", badCron.Errors.Keys);
    }

    [Fact]
    public async Task Cluster_doctor_and_workers_are_read_and_no_leader_is_unavailable()
    {
        var cluster = await Client.GetClusterAsync();
        var doctor = await Client.GetDoctorAsync();
        var workers = await Client.ListWorkersAsync().ToListAsync();

        Assert.Equal(Backend, cluster.Store.Backend);
        Assert.NotEmpty(doctor.Checks);
        Assert.Empty(workers);
        await Assert.ThrowsAsync<ControlPlaneNotFoundException>(() => Client.DrainWorkerAsync("no-such-worker"));
    }
}

/// <summary>The client against a director on ZooKeeper.</summary>
[Collection(ZooKeeperCollection.Name)]
public sealed class ZooKeeperClientApiTests(ZooKeeperFixture fixture) : ClientApiTests
{
    /// <inheritdoc />
    protected override string Backend => "zookeeper";

    /// <inheritdoc />
    protected override string Endpoints => fixture.ConnectionString;
}

/// <summary>The client against a director on etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdClientApiTests(EtcdFixture fixture) : ClientApiTests
{
    /// <inheritdoc />
    protected override string Backend => "etcd";

    /// <inheritdoc />
    protected override string Endpoints => fixture.Endpoints;
}
