using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using ControlPlane.Contracts.Jobs;
using ControlPlane.TestSupport.ControlPlane;

namespace ControlPlane.Bench.ControlPlane;

/// <summary>
/// The event stream under a job run: S subscribers on one follower director while J echo jobs run as fast as this
/// machine allows. <c>events --backend zookeeper|etcd --subscribers 50 --jobs 2000 --concurrency 32 --agents 2 --slots 32</c>.
/// Two directors: the leader takes every submission; the follower serves the streams (what the blueprint asks: streams
/// never load the leader). The same run is made twice on the same cluster, first with no subscriber, then with S, so the
/// follower's CPU for the stream is the difference, and per subscriber that difference divided by S. A warm-up run
/// (up to 500 jobs, not measured) comes first.
/// Delivery lag is measured on one clock (one machine): for a job's first event (Pending), the time a subscriber read it
/// minus the time the bench sent the POST that created it (an upper bound: it includes the POST's own latency, reported
/// beside it, and the same lag measured from the POST's answer, a lower bound); for its Succeeded event, the time read minus the job's finishedAt (the agent's clock, copied into the
/// job by the leader's fold: so this lag includes the leader's fold, the store and the director's fan-out).
/// </summary>
/// <remarks>Raw SSE on purpose, not ControlPlane.Client's StreamEventsAsync: it measures the director's stream (delivery lag,
/// cut-offs), which the client's resume would smooth over.</remarks>
internal sealed class EventsBench : IScenario
{
    public string Name => "events";

    public string Summary => "event stream: delivery lag and director CPU per subscriber (--backend zookeeper|etcd --subscribers 50 --jobs 2000)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = BenchArgs.Parse(args);
        var backend = options.String("backend") ?? "zookeeper";
        var subscribers = options.Int("subscribers", 50);
        var jobs = options.Int("jobs", 2000);
        var concurrency = options.Int("concurrency", 32);
        var agents = options.Int("agents", 2);
        var slots = options.Int("slots", 32);
        await using var cluster = await BenchCluster.StartAsync(backend, 2, agents, slots, TimeSpan.FromSeconds(10), cancellationToken: cancellationToken).ConfigureAwait(false);
        var leaderName = (await cluster.Directors[0].Client.LeaderAsync(cancellationToken).ConfigureAwait(false))?.DirectorId;
        var leader = cluster.Directors.Single(d => d.Process.Name == leaderName);
        var follower = cluster.Directors.Single(d => d != leader);
        var load = BenchReport.LoadAverage();

        // Warm-up, not measured: JIT, connection pools and the store's caches, which would otherwise count against the
        // first measured run.
        await RunJobsAsync(leader, follower, Math.Min(jobs, 500), concurrency, null, cancellationToken).ConfigureAwait(false);

        // Without subscribers: what following the store costs the follower by itself.
        var quiet = await RunJobsAsync(leader, follower, jobs, concurrency, null, cancellationToken).ConfigureAwait(false);

        // With subscribers, on the same cluster.
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = subscribers + 4 }) { BaseAddress = follower.Url, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", follower.Token);
        var streams = new List<Subscriber>();
        for (var i = 0; i < subscribers; i++)
        {
            streams.Add(await Subscriber.OpenAsync(http, cancellationToken).ConfigureAwait(false));
        }

        var loud = await RunJobsAsync(leader, follower, jobs, concurrency, streams, cancellationToken).ConfigureAwait(false);
        var metrics = await DirectorMetricsScrape.ScrapeAsync(follower, null, cancellationToken).ConfigureAwait(false);
        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        var firstLags = streams.SelectMany(s => s.FirstSeen.Select(p => (p.Value - loud.SentAt.GetValueOrDefault(p.Key, p.Value)).TotalMilliseconds)).ToList();
        // The same first events measured from the POST's answer instead: a lower bound (the commit came before the answer),
        // negative when the event arrived before the answer did.
        var afterAnswer = streams.SelectMany(s => s.FirstSeen.Select(p => (p.Value - loud.AnsweredAt.GetValueOrDefault(p.Key, p.Value)).TotalMilliseconds)).ToList();
        var (a50, _, a99, _) = Percentiles.Of(afterAnswer);
        var finishLags = streams.SelectMany(s => s.FinishLags).ToList();
        var (l50, _, l99, lmax) = Percentiles.Of(firstLags);
        var (f50, _, f99, fmax) = Percentiles.Of(finishLags);
        var (s50, _, s99, _) = Percentiles.Of(loud.SubmitLatencies);
        var complete = streams.Count(s => s.Succeeded.Count >= jobs);
        var quietMsPerJob = quiet.FollowerCpuSeconds * 1000 / jobs;
        var loudMsPerJob = loud.FollowerCpuSeconds * 1000 / jobs;
        var perSubscriber = (loudMsPerJob - quietMsPerJob) / Math.Max(1, subscribers);
        var events = streams.Sum(s => s.Events);
        BenchReport.Json(new
        {
            scenario = "events", backend, subscribers, jobs, concurrency, agents, slots,
            subscribersThatSawEveryJobSucceed = complete,
            eventsDelivered = events, eventsPerJobPerSubscriber = BenchReport.Round((double)events / Math.Max(1, subscribers) / jobs, 2),
            cutoffs = metrics.GetValueOrDefault("controlplane_events_cutoffs_total"),
            directorResyncs = metrics.GetValueOrDefault("controlplane_events_resyncs_total"),
            subscribersResynced = streams.Count(s => s.Resyncs > 0),
            jobsPerSecondWithout = BenchReport.Round(jobs / quiet.Seconds), jobsPerSecondWith = BenchReport.Round(jobs / loud.Seconds),
            firstEventLagP50Ms = BenchReport.Round(l50), firstEventLagP99Ms = BenchReport.Round(l99), firstEventLagMaxMs = BenchReport.Round(lmax),
            firstEventAfterAnswerP50Ms = BenchReport.Round(a50), firstEventAfterAnswerP99Ms = BenchReport.Round(a99),
            submitP50Ms = BenchReport.Round(s50), submitP99Ms = BenchReport.Round(s99),
            finishLagP50Ms = BenchReport.Round(f50), finishLagP99Ms = BenchReport.Round(f99), finishLagMaxMs = BenchReport.Round(fmax),
            followerCpuSecondsWithout = BenchReport.Round(quiet.FollowerCpuSeconds, 2), followerCpuSecondsWith = BenchReport.Round(loud.FollowerCpuSeconds, 2),
            followerCpuMsPerJobWithout = BenchReport.Round(quietMsPerJob, 3), followerCpuMsPerJobWith = BenchReport.Round(loudMsPerJob, 3),
            cpuRatioWithOverWithout = BenchReport.Round(loudMsPerJob / quietMsPerJob, 2),
            cpuMsPerJobPerSubscriber = BenchReport.Round(perSubscriber, 4),
            loadAverage = load,
        });
        BenchReport.Table(
            ["backend", "subs", "jobs", "jobs/s without / with", "first-event lag p50/p99 ms (from POST sent)", "(from POST answered)", "submit p50/p99 ms", "finish lag p50/p99 ms", "follower CPU ms/job without / with", "ratio", "ms/job/subscriber"],
            [[backend, $"{subscribers}", $"{jobs}", $"{BenchReport.Cell(jobs / quiet.Seconds)} / {BenchReport.Cell(jobs / loud.Seconds)}",
              $"{BenchReport.Cell(l50)} / {BenchReport.Cell(l99)}", $"{BenchReport.Cell(a50)} / {BenchReport.Cell(a99)}", $"{BenchReport.Cell(s50)} / {BenchReport.Cell(s99)}",
              $"{BenchReport.Cell(f50)} / {BenchReport.Cell(f99)}",
              $"{BenchReport.Cell(quietMsPerJob, "0.00")} / {BenchReport.Cell(loudMsPerJob, "0.00")}",
              BenchReport.Cell(loudMsPerJob / quietMsPerJob, "0.00"), BenchReport.Cell(perSubscriber, "0.000")]]);
        return complete == subscribers ? 0 : 1;
    }

    private sealed record Run(
        double Seconds, double FollowerCpuSeconds, ConcurrentDictionary<string, DateTimeOffset> SentAt, ConcurrentDictionary<string, DateTimeOffset> AnsweredAt,
        List<double> SubmitLatencies);

    /// <summary>Submits <paramref name="jobs"/> echo jobs to the leader, <paramref name="concurrency"/> at a time, and
    /// waits until all finished (and, with <paramref name="streams"/>, every subscriber saw each succeed), at most 10 min.</summary>
    private static async Task<Run> RunJobsAsync(
        DirectorProcess leader, DirectorProcess follower, int jobs, int concurrency, List<Subscriber>? streams, CancellationToken cancellationToken)
    {
        var cpuBefore = BenchReport.CpuSeconds(follower.Process.ProcessId);
        var sentAt = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var answeredAt = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var latencies = new ConcurrentBag<double>();
        var ids = new ConcurrentBag<string>();
        var payload = JsonDocument.Parse("""{"bench":true}""").RootElement;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var sent = DateTimeOffset.UtcNow;
            var t = Stopwatch.GetTimestamp();
            var id = (await leader.Client.SubmitAsync(new JobSpec { Executor = "echo", Args = payload }, cancellationToken: ct).ConfigureAwait(false)).Id;
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            answeredAt[id] = DateTimeOffset.UtcNow;
            sentAt[id] = sent;
            ids.Add(id);
        }).ConfigureAwait(false);

        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var deadline = Stopwatch.GetTimestamp() + (long)(TimeSpan.FromMinutes(10).TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            // A subscriber that was cut off or told to resync cannot see every job here (it would re-read the lists): it is
            // not waited for, and the report counts it as incomplete.
            var finished = streams is { Count: > 0 }
                ? streams.All(s => s.Ended || s.Resyncs > 0 || wanted.IsSubsetOf(s.Succeeded.Keys))
                : (await leader.Client.AllJobsAsync(cancellationToken).ConfigureAwait(false)).Count(j => wanted.Contains(j.Id) && j.State.IsTerminal()) == wanted.Count;
            if (finished)
            {
                break;
            }

            // Not a retry: the pace of a bounded poll for the run's end (listing every job costs the director more).
            await Task.Delay(streams is null ? 500 : 100, cancellationToken).ConfigureAwait(false);
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new Run(seconds, BenchReport.CpuSeconds(follower.Process.ProcessId) - cpuBefore, sentAt, answeredAt, [.. latencies]);
    }

    /// <summary>One stream of <c>?type=job</c>, read on its own task: when each job was first seen and seen Succeeded.</summary>
    private sealed class Subscriber : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reading;

        private Subscriber(HttpResponseMessage response, Stream body)
        {
            _response = response;
            _reading = Task.Run(() => ReadAsync(body));
        }

        public ConcurrentDictionary<string, DateTimeOffset> FirstSeen { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, bool> Succeeded { get; } = new(StringComparer.Ordinal);

        public ConcurrentBag<double> FinishLags { get; } = [];

        public long Events;

        public int Resyncs;

        public bool Ended => _reading.IsCompleted;

        public static async Task<Subscriber> OpenAsync(HttpClient http, CancellationToken cancellationToken)
        {
            var response = await http.GetAsync("/v1/events?type=job", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            return new Subscriber(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        }

        private async Task ReadAsync(Stream body)
        {
            using var reader = new StreamReader(body);
            try
            {
                while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    if (line.StartsWith("data: {\"type\":\"resync\"", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref Resyncs);
                        continue;
                    }

                    var now = DateTimeOffset.UtcNow;
                    Interlocked.Increment(ref Events);
                    // Cheap field reads rather than a JSON parse per event: the bench shares the machine with the director.
                    var id = Field(line, "\"id\":\"");
                    var state = Field(line, "\"state\":\"");
                    if (id is null)
                    {
                        continue;
                    }

                    FirstSeen.TryAdd(id, now);
                    if (state == "Succeeded" && Succeeded.TryAdd(id, true)
                        && Field(line, "\"finishedAt\":\"") is { } finished
                        && DateTimeOffset.TryParse(finished, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at))
                    {
                        FinishLags.Add((now - at).TotalMilliseconds);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
            {
                // Stopped, or the director went away.
            }
        }

        private static string? Field(string line, string prefix)
        {
            var start = line.IndexOf(prefix, StringComparison.Ordinal);
            if (start < 0)
            {
                return null;
            }

            start += prefix.Length;
            var end = line.IndexOf('"', start);
            return end < 0 ? null : line[start..end];
        }

        public void Dispose()
        {
            _stop.Cancel();
            _response.Dispose();
            _reading.Wait(TimeSpan.FromSeconds(5));
            _stop.Dispose();
        }
    }
}
