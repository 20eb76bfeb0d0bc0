using System.Net;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Director;

public abstract partial class DirectorApiTests
{
    [Fact]
    public async Task A_leading_director_schedules_on_a_session_of_its_own_and_accepts_jobs_while_its_term_loads()
    {
        // A backlog for the new leader's term to load (no worker registers, so the jobs stay Pending). Small enough
        // for a test; the timing effect at scale is measured in Bench/ (docs/performance.md), not asserted here.
        var store = await ConnectStoreAsync();
        await WritePendingJobsAsync(store, 3000);

        var leader = StartDirector(runtime: true);
        var runtime = leader.Service<DirectorRuntime>();
        var main = leader.Service<StoreConnection>();
        await main.Connected.WaitAsync(Deadline);
        // Submissions start as soon as the director has reached the store, whether it leads yet or not.
        var submitted = new List<HttpStatusCode>();
        await Eventually.UntilAsync(
            async () =>
            {
                using var response = await PostJobAsync(leader.Client, ShellJob("during-load"));
                submitted.Add(response.StatusCode);
                return runtime.Election?.Current.IsLeader == true;
            },
            Deadline,
            () => $"leader: {runtime.Election?.Current}; answers {string.Join(", ", submitted)}");
        for (var i = 0; i < 20; i++)
        {
            using var response = await PostJobAsync(leader.Client, ShellJob("while-leading"));
            submitted.Add(response.StatusCode);
        }

        Assert.All(submitted, status => Assert.Equal(HttpStatusCode.Created, status));
        // The structure that keeps the API's requests out of the leader's queue: the scheduler's store is another
        // connection with a session of its own (on ZooKeeper each session's requests are answered in order).
        var api = await main.Connected;
        var scheduler = runtime.SchedulerStore;
        Assert.NotNull(scheduler);
        Assert.NotSame(api, scheduler);
        Assert.NotEqual(api.Session.Id, scheduler.Session.Id);
        Assert.Equal(api.Backend, scheduler.Backend);
    }

    private static async Task WritePendingJobsAsync(ICoordinationStore store, int count)
    {
        const int perTransaction = 50;
        var batches = Enumerable.Range(0, (count + perTransaction - 1) / perTransaction).Select(async batch =>
        {
            var transaction = new Transaction();
            for (var i = batch * perTransaction; i < Math.Min(count, (batch + 1) * perTransaction); i++)
            {
                var job = new JobRecord { Id = JobIds.New(), Spec = new JobSpec { Executor = "shell", Command = ["/bin/true"] }, CreatedAt = DateTimeOffset.UtcNow };
                transaction.Create(StoreLayout.Job(job.Id), ContractJson.Serialize(job));
            }

            var result = await store.CommitAsync(transaction);
            Assert.True(result.Succeeded, $"batch {batch} failed at {result.FailedIndex}");
        });
        await Task.WhenAll(batches);
    }
}
