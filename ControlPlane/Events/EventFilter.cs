using System.Globalization;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Events;

/// <summary>
/// What one subscriber asked for (<c>?job=&amp;state=&amp;group=&amp;worker=&amp;type=</c>); every given filter must
/// hold. <c>job</c> takes up to <see cref="MaxJobs"/> comma-separated ids (what <c>cpctl wait</c> sends). <c>job</c>, <c>state</c> and <c>group</c> select job events only; <c>worker</c> selects that worker's events
/// and the events of jobs on it; <c>type</c> selects event types. A deleted job matches <c>job</c> and <c>type</c> but
/// not <c>state</c>, <c>group</c> or <c>worker</c> (its record is gone). <c>resync</c> and <c>cutoff</c> always pass.
/// </summary>
internal sealed record EventFilter(IReadOnlySet<string>? Jobs, IReadOnlySet<string>? States, string? Group, string? Worker, IReadOnlySet<string>? Types)
{
    /// <summary>Most job ids one <c>job</c> filter may list.</summary>
    public const int MaxJobs = 100;

    /// <summary>No filter: every event.</summary>
    public static readonly EventFilter All = new(null, null, null, null, null);

    /// <summary>
    /// Parses the query parameters (null when absent). Every bad one adds an entry to <paramref name="errors"/>, named
    /// after the parameter; the result is null then. <c>job</c>, <c>state</c> and <c>type</c> take comma-separated lists.
    /// </summary>
    public static EventFilter? Parse(string? job, string? state, string? group, string? worker, string? type, List<(string Field, string Message)> errors)
    {
        var before = errors.Count;
        HashSet<string>? jobs = null;
        if (job is not null)
        {
            jobs = new HashSet<string>(job.Split(',', StringSplitOptions.TrimEntries), StringComparer.Ordinal);
            if (jobs.Count > MaxJobs || !jobs.All(JobIds.IsValid))
            {
                errors.Add(("job", $"1 to {MaxJobs} job ids (32 lowercase hex digits each), comma-separated."));
            }
        }

        HashSet<string>? states = null;
        if (state is not null)
        {
            states = new HashSet<string>(StringComparer.Ordinal);
            foreach (var name in state.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse<JobState>(name, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add(("state", $"'{name}' is not a job state; use {string.Join(", ", Enum.GetNames<JobState>())} (comma-separated for several)."));
                    continue;
                }

                states.Add(parsed.ToString());
            }
        }

        if (group is not null && (group.Length == 0 || group.Length > Limits.MaxGroupLength))
        {
            errors.Add(("group", $"1 to {Limits.MaxGroupLength} characters."));
        }

        if (worker is not null && (worker.Length > 128 || !JobSpecValidator.IsName(worker)))
        {
            errors.Add(("worker", "A worker id is 1 to 128 letters, digits, '.', '_' or '-'."));
        }

        HashSet<string>? types = null;
        if (type is not null)
        {
            types = new HashSet<string>(StringComparer.Ordinal);
            foreach (var name in type.Split(',', StringSplitOptions.TrimEntries))
            {
                var known = EventTypes.Filterable.FirstOrDefault(t => string.Equals(t, name, StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    errors.Add(("type", $"'{name}' is not an event type; use {string.Join(", ", EventTypes.Filterable)} (comma-separated for several)."));
                    continue;
                }

                types.Add(known);
            }
        }

        return errors.Count > before ? null : new EventFilter(jobs, states, group, worker, types);
    }

    /// <summary>Whether <paramref name="e"/> passes.</summary>
    public bool Matches(StreamEvent e)
    {
        if (e.Type is EventTypes.Resync or EventTypes.Cutoff)
        {
            return true;
        }

        if (Types is not null && !Types.Contains(e.Type))
        {
            return false;
        }

        return e.Type switch
        {
            EventTypes.Job => (Jobs is null || (e.JobId is not null && Jobs.Contains(e.JobId)))
                && (States is null || (e.State is not null && States.Contains(e.State)))
                && (Group is null || Group == e.Group)
                && (Worker is null || Worker == e.WorkerId),
            EventTypes.Worker => Jobs is null && States is null && Group is null && (Worker is null || Worker == e.WorkerId),
            _ => Jobs is null && States is null && Group is null && Worker is null,
        };
    }
}
