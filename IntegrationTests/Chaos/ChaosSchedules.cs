using System.Net;
using System.Net.Http.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.TestSupport;

namespace ControlPlane.IntegrationTests.Chaos;

/// <summary>
/// A few one-second schedules (<c>catchUp: all</c>) that fire through the whole chaos run. Afterwards each is paused
/// and its jobs are compared with its ticks: every tick from its anchor to its last judged tick must have exactly one
/// job (check [5]): none missing across leader kills and store faults, none twice.
/// </summary>
internal sealed class ChaosSchedules(ChaosCluster cluster, string runId)
{
    /// <summary>Schedules per run.</summary>
    public const int Count = 3;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly List<ScheduleView> _created = [];

    /// <summary>Creates the schedules (keyed, so a retry on another director is the same schedule).</summary>
    public async Task CreateAsync()
    {
        for (var i = 0; i < Count; i++)
        {
            var key = $"chaos-schedule-{runId}-{i}";
            var view = await AnyDirectorAsync(async client =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/schedules")
                {
                    Content = JsonContent.Create(new
                    {
                        name = $"chaos-{i}",
                        cron = "* * * * * *",
                        catchUp = "all",
                        maxCatchUp = 10_000,
                        job = new { executor = "shell", command = new[] { "/bin/true" } },
                    }),
                };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await client.Http.SendAsync(request);
                return response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK
                    ? ContractJson.Deserialize<ScheduleView>(await response.Content.ReadAsByteArrayAsync())
                    : null;
            });
            _created.Add(view);
        }
    }

    /// <summary>Pauses every schedule and returns one line per tick without exactly one job, or per schedule with
    /// missed ticks; with the count of ticks checked.</summary>
    public async Task<(List<string> Violations, int Ticks)> CheckAsync()
    {
        var violations = new List<string>();
        var ticks = 0;
        foreach (var schedule in _created)
        {
            var final = await AnyDirectorAsync(async client =>
            {
                using var response = await client.Http.PostAsync($"/v1/schedules/{schedule.Id}/pause", null);
                return response.StatusCode == HttpStatusCode.OK ? ContractJson.Deserialize<ScheduleView>(await response.Content.ReadAsByteArrayAsync()) : null;
            });
            var jobs = await AnyDirectorAsync(async client =>
            {
                var all = new List<JobView>();
                string? cursor = null;
                for (var page = 0; page < 1000; page++)
                {
                    var url = $"/v1/jobs?schedule={schedule.Id}&limit=500&minRevision={final.Revision}" + (cursor is null ? "" : $"&cursor={cursor}");
                    using var response = await client.Http.GetAsync(url);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        return null;
                    }

                    var read = ContractJson.Deserialize<JobPage>(await response.Content.ReadAsByteArrayAsync());
                    all.AddRange(read.Items);
                    if ((cursor = read.Cursor) is null)
                    {
                        return all;
                    }
                }

                return null;
            });

            var byTick = jobs.GroupBy(j => j.ScheduledFor!.Value).ToDictionary(g => g.Key, g => g.Count());
            var first = new DateTimeOffset(schedule.Anchor.Ticks - (schedule.Anchor.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
            for (var tick = first; final.LastTick is { } last && tick <= last; tick = tick.AddSeconds(1))
            {
                ticks++;
                var n = byTick.GetValueOrDefault(tick);
                if (n != 1)
                {
                    violations.Add($"[5] schedule {schedule.Id} tick {tick:O} has {n} jobs");
                }
            }

            if (final.Missed != 0 || byTick.Keys.Any(t => t < first || t > final.LastTick))
            {
                violations.Add($"[5] schedule {schedule.Id}: {final.Missed} ticks missed, {byTick.Keys.Count(t => t < first || t > final.LastTick)} jobs outside its ticks");
            }
        }

        return (violations, ticks);
    }

    /// <summary>Asks live directors in turn until one answers (bounded): faults may be under way or just repaired.</summary>
    private async Task<T> AnyDirectorAsync<T>(Func<TestSupport.ControlPlane.DirectorClient, Task<T?>> call)
        where T : class
    {
        T? result = null;
        await Eventually.UntilAsync(
            async () =>
            {
                foreach (var (_, client) in cluster.LiveDirectors())
                {
                    try
                    {
                        if ((result = await call(client)) is not null)
                        {
                            return true;
                        }
                    }
                    catch (HttpRequestException)
                    {
                        // That director is down or cut off: the next one.
                    }
                }

                return false;
            },
            Patience);
        return result!;
    }
}
