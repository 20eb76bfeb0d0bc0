using System.Collections.Concurrent;
using System.Diagnostics;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// Submits the planned jobs at an even pace over the chaos period, each to a random live director. A keyed job is
/// retried with its key on any error until accepted (a replay must answer the same job); an unkeyed one is given
/// up after an error and submitted afresh under a new name (the lost try may have created a job nobody knows:
/// counted as an orphan), so the run still accepts the planned number of jobs.
/// </summary>
public sealed class ChaosWorkload(ChaosCluster cluster, RequestLog requests, IReadOnlyList<JobPlan> plans, int seed)
{
    private const int Clients = 4;
    private const int MaxTries = 200;
    private static readonly TimeSpan TryDeadline = TimeSpan.FromMinutes(2);
    private readonly ConcurrentDictionary<int, AcceptedJob> _accepted = new();
    private readonly ConcurrentQueue<string> _abandoned = new();
    private int _next = -1;

    /// <summary>Jobs accepted so far, by plan index.</summary>
    public IReadOnlyList<AcceptedJob> Accepted => [.. _accepted.Values.OrderBy(a => a.Plan.Index)];

    /// <summary>Names of unkeyed tries that got no 201: each may or may not have created a job.</summary>
    public IReadOnlyList<string> Abandoned => [.. _abandoned];

    /// <summary>Plans no try got accepted before the deadline.</summary>
    public IReadOnlyList<JobPlan> NeverAccepted => [.. plans.Where(p => !_accepted.ContainsKey(p.Index))];

    /// <summary>Submits every plan, spread over <paramref name="period"/>.</summary>
    public async Task RunAsync(TimeSpan period)
    {
        var clock = Stopwatch.StartNew();
        var interval = period * 0.9 / Math.Max(1, plans.Count);
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => ClientAsync(new Random(seed + 1000 + c), clock, interval)));
    }

    private async Task ClientAsync(Random random, Stopwatch clock, TimeSpan interval)
    {
        for (var index = Interlocked.Increment(ref _next); index < plans.Count; index = Interlocked.Increment(ref _next))
        {
            // Pacing the load (not synchronisation): job i goes out at i × interval into the run.
            var due = interval * index - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            await SubmitAsync(plans[index], random);
        }
    }

    private async Task SubmitAsync(JobPlan plan, Random random)
    {
        var started = Stopwatch.StartNew();
        var spec = plan.Spec;
        for (var tries = 1; tries <= MaxTries && started.Elapsed < TryDeadline; tries++)
        {
            var live = cluster.LiveDirectors();
            if (live.Count == 0)
            {
                await Task.Delay(200);
                continue;
            }

            var (name, client) = live[random.Next(live.Count)];
            var (status, job) = await requests.SubmitAsync(name, client.Http, spec, plan.IdempotencyKey);
            if (job is not null && status is 200 or 201)
            {
                _accepted[plan.Index] = new AcceptedJob(plan with { Spec = spec }, job.Id, job.Revision, name, tries, status.Value);
                return;
            }

            if (status is >= 400 and < 500)
            {
                // A valid request refused as invalid is a bug the report shows (recorded in the request log); do not retry.
                return;
            }

            if (plan.IdempotencyKey is null)
            {
                // The try may have created the job: resubmit under a new name, so the two are told apart.
                _abandoned.Enqueue(spec.Name!);
                spec = spec with { Name = $"{plan.Spec.Name}-retry{tries}" };
            }

            // Back off a little: the store or the director is in trouble.
            await Task.Delay(100 + random.Next(300));
        }
    }
}
