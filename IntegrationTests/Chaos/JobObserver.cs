using ControlPlane.Contracts.Jobs;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// Lists every job through a random live director every second or so, for the whole run, and remembers for each job
/// which leader epoch it saw with which attempt. The job record carries the epoch of the leader that assigned its
/// current attempt (Assigned, Running, and the terminal state it ends in); a job sent back to Pending has attempt
/// n+1 but still the epoch of attempt n's assignment.
/// </summary>
public sealed class JobObserver(ChaosCluster cluster, RequestLog requests, int seed)
{
    private readonly Dictionary<string, Dictionary<int, HashSet<long>>> _epochs = [];
    private readonly Lock _lock = new();
    private readonly Random _random = new(seed + 7);
    private IReadOnlyDictionary<string, JobView> _latest = new Dictionary<string, JobView>();

    /// <summary>Complete listings taken.</summary>
    public int Listings { get; private set; }

    /// <summary>The last complete listing, by job id.</summary>
    public IReadOnlyDictionary<string, JobView> Latest
    {
        get
        {
            lock (_lock)
            {
                return _latest;
            }
        }
    }

    /// <summary>Epochs seen per job and attempt.</summary>
    public IReadOnlyDictionary<string, Dictionary<int, HashSet<long>>> Epochs
    {
        get
        {
            lock (_lock)
            {
                return _epochs.ToDictionary(j => j.Key, j => j.Value.ToDictionary(a => a.Key, a => a.Value.ToHashSet()));
            }
        }
    }

    /// <summary>Lists until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await ObserveOnceAsync();
            try
            {
                // Pacing the observation (not synchronisation): a listing of 1000 jobs costs the busy machine.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Takes one complete listing; false when a page failed (the 5xx check judges the failure).</summary>
    public async Task<bool> ObserveOnceAsync()
    {
        var live = cluster.LiveDirectors();
        if (live.Count == 0)
        {
            return false;
        }

        int pick;
        lock (_lock)
        {
            pick = _random.Next(live.Count);
        }

        var (name, client) = live[pick];
        var jobs = new Dictionary<string, JobView>();
        string? cursor = null;
        for (var page = 0; page < 100; page++)
        {
            var (_, result) = await requests.ListAsync(name, client.Http, cursor);
            if (result is null)
            {
                return false;
            }

            foreach (var job in result.Items)
            {
                jobs[job.Id] = job;
            }

            cursor = result.Cursor;
            if (cursor is null)
            {
                break;
            }
        }

        Record(jobs);
        return true;
    }

    private void Record(Dictionary<string, JobView> jobs)
    {
        lock (_lock)
        {
            _latest = jobs;
            Listings++;
            foreach (var job in jobs.Values)
            {
                var attempt = job.State switch
                {
                    JobState.Assigned or JobState.Running or JobState.Succeeded or JobState.Failed => job.Attempt,
                    JobState.Pending when job.Attempt > 1 => job.Attempt - 1,
                    _ => 0,
                };
                if (attempt == 0 || job.Epoch <= 0)
                {
                    continue;
                }

                if (!_epochs.TryGetValue(job.Id, out var byAttempt))
                {
                    _epochs[job.Id] = byAttempt = [];
                }

                if (!byAttempt.TryGetValue(attempt, out var epochs))
                {
                    byAttempt[attempt] = epochs = [];
                }

                epochs.Add(job.Epoch);
            }
        }
    }
}
