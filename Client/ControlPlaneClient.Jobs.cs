using System.Runtime.CompilerServices;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Client;

/// <summary>Which jobs <see cref="ControlPlaneClient.ListJobsAsync"/> lists; every filter is optional.</summary>
public sealed record JobFilter
{
    /// <summary>Only jobs in this state.</summary>
    public JobState? State { get; init; }

    /// <summary>Only jobs of this FIFO group.</summary>
    public string? Group { get; init; }

    /// <summary>Only jobs created by this schedule (its id).</summary>
    public string? ScheduleId { get; init; }

    /// <summary>Jobs per request (1 to 500); null for the director's default (50). Larger pages mean fewer requests.</summary>
    public int? PageSize { get; init; }

    /// <summary>Read at this store revision or later (an <c>X-Revision</c> or <see cref="JobView.Revision"/> seen
    /// earlier, from any director): the list then includes that write.</summary>
    public long? MinRevision { get; init; }
}

/// <summary>The <c>/v1/jobs</c> calls.</summary>
public sealed partial class ControlPlaneClient
{
    /// <summary>
    /// <c>POST /v1/jobs</c>: submits a job and returns it as created (state Pending) with the revision of the write.
    /// With <paramref name="idempotencyKey"/> a repeat of the same submission, by this client's retries or by you, returns
    /// the same job instead of creating another; without one, the call is never sent twice once a director may have
    /// received it (see the class remarks).
    /// </summary>
    /// <param name="spec">The job.</param>
    /// <param name="idempotencyKey">Any string of 1 to 256 characters unique to what you submit (an order number, a file
    /// name and date); null for none.</param>
    /// <param name="cancellationToken">Cancels the call; the job may then exist or not.</param>
    /// <exception cref="ControlPlaneValidationException">The spec is invalid; <see cref="ControlPlaneValidationException.Errors"/> names each field.</exception>
    /// <exception cref="ControlPlaneConflictException">The key was already used for a different spec.</exception>
    /// <exception cref="ControlPlaneTooManyPendingException">A pending-job limit still refused it after the client's retries; nothing was created.</exception>
    /// <exception cref="ControlPlaneUnavailableException">The store could not answer; without a key the job may exist.</exception>
    /// <exception cref="ControlPlaneUnreachableException">No director answered.</exception>
    public Task<JobView> SubmitJobAsync(JobSpec spec, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.SubmitJob(spec, idempotencyKey), cancellationToken);

    /// <summary><c>GET /v1/jobs/{id}</c>: the job, read at <paramref name="minRevision"/> or later when given (pass the
    /// <see cref="JobView.Revision"/> of a write to read it back from any director).</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such job.</exception>
    /// <exception cref="ControlPlaneValidationException"><paramref name="id"/> is not a job id (32 lowercase hex digits).</exception>
    public Task<JobView> GetJobAsync(string id, long? minRevision = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetJob(id, minRevision), cancellationToken);

    /// <summary><c>GET /v1/jobs/{id}/explain</c>: why the job is (not) running, in plain words with counts.</summary>
    /// <exception cref="ControlPlaneNotFoundException">No such job.</exception>
    public Task<JobExplanation> ExplainJobAsync(string id, long? minRevision = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.ExplainJob(id, minRevision), cancellationToken);

    /// <summary><c>GET /v1/jobs</c>, one page from <paramref name="cursor"/> (null for the first). Most callers want
    /// <see cref="ListJobsAsync"/>, which follows the cursors.</summary>
    /// <exception cref="ControlPlaneValidationException">A filter value or the cursor is invalid (each is named).</exception>
    public Task<JobPage> GetJobPageAsync(JobFilter? filter = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.GetJobPage(filter, cursor), cancellationToken);

    /// <summary>
    /// Every job that matches <paramref name="filter"/>, a page at a time as the enumeration goes on (the next page is
    /// requested only when the previous one is used up). Jobs created or changed during the enumeration may or may not
    /// appear; none appears twice.
    /// </summary>
    public IAsyncEnumerable<JobView> ListJobsAsync(JobFilter? filter = null, CancellationToken cancellationToken = default) =>
        PagesAsync((cursor, ct) => GetJobPageAsync(filter, cursor, ct), page => (page.Items, page.Cursor), cancellationToken);

    /// <summary>
    /// <c>DELETE /v1/jobs/{id}</c>: requests cancellation and returns the job as recorded: a Pending job is Cancelled at
    /// once, a running one has <see cref="JobView.CancelRequested"/> set and stops once its agent acts. Repeatable: when
    /// a retry follows a lost answer, the second request may find the job already Cancelled (409).
    /// </summary>
    /// <exception cref="ControlPlaneNotFoundException">No such job.</exception>
    /// <exception cref="ControlPlaneConflictException">The job has already finished.</exception>
    public Task<JobView> CancelJobAsync(string id, CancellationToken cancellationToken = default) =>
        ValueAsync(ControlPlaneRequest.CancelJob(id), cancellationToken);

    /// <summary>Follows cursors: one request per page, none before the caller asks for the page's first item.</summary>
    private static async IAsyncEnumerable<T> PagesAsync<TPage, T>(
        Func<string?, CancellationToken, Task<TPage>> fetch,
        Func<TPage, (IReadOnlyList<T> Items, string? Cursor)> split,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        do
        {
            var (items, next) = split(await fetch(cursor, cancellationToken).ConfigureAwait(false));
            foreach (var item in items)
            {
                yield return item;
            }

            cursor = next;
        }
        while (cursor is not null);
    }
}
