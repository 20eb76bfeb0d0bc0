using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Coordination;
using ControlPlane.Coordination.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Director.Api;

/// <summary>What to list.</summary>
/// <param name="State">Only jobs in this (overlaid) state.</param>
/// <param name="Group">Only jobs of this FIFO group.</param>
/// <param name="Limit">Most jobs in the page.</param>
/// <param name="Cursor">Where to resume; null for the first page.</param>
/// <param name="MinRevision">Read state at least this new (read-your-writes across directors).</param>
/// <param name="Schedule">Only jobs this schedule created.</param>
internal sealed record JobQuery(JobState? State, string? Group, int Limit, JobCursor? Cursor, long? MinRevision = null, string? Schedule = null);

/// <summary>
/// Pages through jobs bucket by bucket (00 → ff, ids ordered within each), straight from the store, so any
/// director serves any page. Filters are applied while scanning, and a request examines at most
/// <see cref="ScanBudget"/> jobs: a rare state can yield a short (even empty) page with a cursor, never a request
/// that reads the whole store.
/// </summary>
internal sealed class JobListing(StoreConnection connection, ILogger<JobListing>? logger = null, int scanBudget = JobListing.ScanBudget)
{
    /// <summary>Default page size.</summary>
    public const int DefaultLimit = 50;

    /// <summary>Largest page size.</summary>
    public const int MaxLimit = 500;

    /// <summary>Jobs examined per request at most.</summary>
    public const int ScanBudget = 2000;

    private const int Buckets = 256;

    /// <summary>Every cell's jobs (docs/cells.md), merged in the listing's order (bucket, then id), each with its cell;
    /// the cursor resumes at the same place in every cell. One cell costs what it cost before cells.</summary>
    public async Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        var store = await connection.GetAsync(cancellationToken);
        var cells = await CellRegistry.ListAsync(store, cancellationToken);
        if (cells.Count == 1)
        {
            return await ListAsync(store, query, cancellationToken);
        }

        var (items, resume, revision) = await CellReads.ListEveryCellAsync(
            store, cells, query.MinRevision, query.Limit,
            async cellStore =>
            {
                var page = await ListAsync(cellStore, query with { MinRevision = null }, cancellationToken);
                var next = page.Cursor is null ? null : JobCursor.TryDecode(page.Cursor, out var decoded) ? $"{decoded!.Bucket:x2}:{decoded.LastId}" : null;
                return (page.Items, next, page.Revision);
            },
            v => $"{JobIds.Bucket(v.Id)}:{v.Id}",
            cancellationToken);
        JobCursor? cursor = resume is null ? null : new JobCursor(int.Parse(resume.AsSpan(0, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture), resume[3..]);
        return new JobPage([.. items.Select(i => i.Item with { Cell = i.Cell })], cursor?.Encode(), revision);
    }

    /// <summary>Lists through <paramref name="store"/> (the connected store; a parameter so tests can pass their own).</summary>
    internal async Task<JobPage> ListAsync(ICoordinationStore store, JobQuery query, CancellationToken cancellationToken)
    {
        if (query.MinRevision is { } wanted)
        {
            await store.SyncAsync(wanted, cancellationToken);
        }

        var filtered = query.State is not null || query.Group is not null || query.Schedule is not null;
        var items = new List<JobView>();
        var revision = long.MaxValue;
        var scanned = 0;
        var bucket = query.Cursor?.Bucket ?? 0;
        var after = string.IsNullOrEmpty(query.Cursor?.LastId) ? null : query.Cursor.LastId;
        while (bucket < Buckets)
        {
            // Unfiltered, read just what the page needs; filtered, read in larger pages up to the scan budget.
            var want = filtered ? Math.Min(MaxLimit, scanBudget - scanned) : query.Limit - items.Count;
            var page = await store.ListAsync(StoreLayout.JobBucket(bucket), new ListOptions(Math.Max(1, want), after), cancellationToken);
            revision = Math.Min(revision, page.Revision);
            for (var i = 0; i < page.Items.Count; i++)
            {
                var item = page.Items[i];
                var name = item.Key[(item.Key.LastIndexOf('/') + 1)..];
                scanned++;
                if (JobIds.IsValid(name) && await MatchAsync(store, item, query, cancellationToken) is { } view)
                {
                    items.Add(view);
                }

                if (items.Count >= query.Limit || scanned >= scanBudget)
                {
                    var last = i == page.Items.Count - 1 && page.Next is null && bucket == Buckets - 1;
                    return new JobPage(items, last ? null : new JobCursor(bucket, name).Encode(), revision);
                }
            }

            if (page.Next is not null)
            {
                after = page.Next;
            }
            else
            {
                bucket++;
                after = null;
            }
        }

        return new JobPage(items, null, revision == long.MaxValue ? store.SeenRevision : revision);
    }

    private async Task<JobView?> MatchAsync(ICoordinationStore store, StoreItem item, JobQuery query, CancellationToken cancellationToken)
    {
        JobRecord job;
        try
        {
            job = ContractJson.Deserialize<JobRecord>(item.Value.Span);
        }
        catch (JsonException e)
        {
            // One unreadable record must not make every page that holds it fail; it is logged and left out.
            Log.UnreadableRecord(logger ?? (ILogger)NullLogger.Instance, e, item.Key);
            return null;
        }

        if ((query.Group is not null && job.Spec.Group != query.Group) || (query.Schedule is not null && job.ScheduleId != query.Schedule))
        {
            return null;
        }

        // Only Assigned jobs can read differently after the overlay; skip their extra read when the filter rules them out.
        if (query.State is { } state && job.State != state && !(job.State == JobState.Assigned && state == JobState.Running))
        {
            return null;
        }

        var view = JobViews.From(job, await JobViews.ReadAssignmentAsync(store, job, cancellationToken), item.ModRevision);
        return query.State is null || view.State == query.State ? view : null;
    }
}
