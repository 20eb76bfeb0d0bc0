using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// What a run on the chaos cluster records and how it is judged, shared by <see cref="ChaosTests"/> and
/// <see cref="StoreOutageTests"/>: the API requests, the fault timeline, the workload, and the job observer and store
/// audit (both running from construction on); then the wait until every accepted job has ended, and the evidence that
/// <see cref="ChaosChecks"/>' four checks judge.
/// </summary>
public sealed class ChaosRecorder : IDisposable
{
    private readonly ChaosCluster _cluster;
    private readonly CancellationTokenSource _observing = new();

    /// <summary>Starts observing the jobs and auditing the store; the workload is ready to run.</summary>
    /// <param name="cluster">The cluster.</param>
    /// <param name="plans">The jobs the workload submits.</param>
    /// <param name="seed">Seeds the workload's and the observer's choices.</param>
    public ChaosRecorder(ChaosCluster cluster, IReadOnlyList<JobPlan> plans, int seed)
    {
        _cluster = cluster;
        Workload = new ChaosWorkload(cluster, Requests, plans, seed);
        Observer = new JobObserver(cluster, Requests, seed);
        Audit = new StoreAudit(cluster.DirectTarget, cluster.Cells);
        Auditing = Audit.RunAsync(_observing.Token);
        Watching = Observer.RunAsync(_observing.Token);
    }

    /// <summary>The faults.</summary>
    public FaultTimeline Timeline { get; } = new();

    /// <summary>Every API request.</summary>
    public RequestLog Requests { get; } = new();

    /// <summary>The jobs submitted.</summary>
    public ChaosWorkload Workload { get; }

    /// <summary>The job listings.</summary>
    public JobObserver Observer { get; }

    /// <summary>The store's assignments and epochs.</summary>
    public StoreAudit Audit { get; }

    /// <summary>The store audit's run: faulted when it stopped early.</summary>
    public Task Auditing { get; }

    /// <summary>The job observer's run: faulted when it stopped early.</summary>
    public Task Watching { get; }

    /// <summary>Lists the jobs until every accepted one has ended.</summary>
    /// <param name="deadline">How long to wait.</param>
    /// <exception cref="TimeoutException">Some have not ended by <paramref name="deadline"/> (the first 10 are named).</exception>
    public async Task UntilEveryAcceptedJobEndedAsync(TimeSpan deadline)
    {
        var accepted = Workload.Accepted;
        var left = "nothing listed yet";
        await Eventually.UntilAsync(
            async () =>
            {
                if (!await Observer.ObserveOnceAsync())
                {
                    return false;
                }

                var latest = Observer.Latest;
                var open = accepted.Where(a => latest.GetValueOrDefault(a.Id)?.State.IsTerminal() != true).ToList();
                left = $"{open.Count} not ended: " + string.Join("; ", open.Take(10).Select(a => Describe(a, latest.GetValueOrDefault(a.Id))));
                return open.Count == 0;
            },
            deadline,
            () => left);
    }

    /// <summary>Stops the observer and the audit, gathers the evidence and runs the four checks.</summary>
    /// <param name="grace">How long after a store fault's repair a 503 is still expected.</param>
    /// <returns>The checks, run: their report and violations.</returns>
    public async Task<ChaosChecks> StopAndCheckAsync(TimeSpan grace)
    {
        await _observing.CancelAsync();
        await Task.WhenAll(Watching, Auditing).ContinueWith(_ => { }, TaskScheduler.Default);
        var evidence = new ChaosEvidence(
            Workload.Accepted,
            Workload.NeverAccepted,
            Workload.Abandoned,
            Observer.Latest,
            Observer.Epochs,
            ExecutionLog.Read(_cluster.Apps.ExecutionLogs),
            _cluster.Apps.Processes.Where(p => p.KilledAt is not null).ToDictionary(p => p.ProcessId, p => p.KilledAt!.Value),
            Audit,
            Requests.Calls,
            [.. _cluster.Apps.Processes.Where(p => p.Name.StartsWith("director-", StringComparison.Ordinal)).Select(p => p.LogTail(int.MaxValue))],
            Timeline,
            ChaosCluster.AgentNames.ToDictionary(a => a, _cluster.CellOf));
        var checks = new ChaosChecks(evidence, grace);
        checks.RunAll();
        return checks;
    }

    /// <inheritdoc />
    public void Dispose() => _observing.Dispose();

    private static string Describe(AcceptedJob job, JobView? view) =>
        view is null ? $"{job.Id} not listed" : $"{job.Id} {view.State} attempt {view.Attempt} on {view.WorkerId ?? "-"}";
}
