using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;
using ControlPlane.Contracts.Schedules;
using ControlPlane.Director.Scheduling;

namespace ControlPlane.Director.Api;

/// <summary>Checks a schedule definition field by field (its job with <see cref="JobSpecValidator"/>, its cron and
/// zone with <see cref="CronTimetable"/>) and normalizes it for storage.</summary>
internal static class ScheduleValidator
{
    /// <summary>Every problem of <paramref name="spec"/>, each naming its field (<c>job.executor</c> for the job's).</summary>
    public static List<(string Field, string Message)> Validate(ScheduleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<(string Field, string Message)>();
        if (spec.Name is { Length: > Limits.MaxNameLength })
        {
            errors.Add(("name", $"At most {Limits.MaxNameLength} characters."));
        }

        CronTimetable.TryCreate(spec, errors);
        if (spec.Job is null)
        {
            errors.Add(("job", "Required: the job each tick creates (the body of POST /v1/jobs)."));
        }
        else
        {
            errors.AddRange(JobSpecValidator.Validate(spec.Job).Select(e => ($"job.{e.Field}", e.Message)));

            // A tick's job starts at its tick: a fixed time, a delay or fixed dependencies would repeat every tick.
            foreach (var (field, given) in new[] { ("runAt", spec.Job.RunAt is not null), ("delaySeconds", spec.Job.DelaySeconds is not null), ("dependsOn", spec.Job.DependsOn is { Count: > 0 }) })
            {
                if (given)
                {
                    errors.Add(($"job.{field}", "Not for a schedule's job: each tick's job starts at its tick (the cron and startingDeadlineSeconds say when)."));
                }
            }

            if (spec.Job.Cell is { } cell && cell != Contracts.Cells.Default && Contracts.Cells.IsValid(cell))
            {
                errors.Add(("job.cell", $"A schedule's jobs run in the default cell in this version (docs/cells.md); got '{cell}'."));
            }
        }

        if (!Enum.IsDefined(spec.Concurrency))
        {
            errors.Add(("concurrency", "One of allow, forbid, replace."));
        }

        if (!Enum.IsDefined(spec.CatchUp))
        {
            errors.Add(("catchUp", "One of skip, latest, all."));
        }

        if (spec.MaxCatchUp is { } max)
        {
            if (max is < 1 or > Limits.MaxCatchUp)
            {
                errors.Add(("maxCatchUp", $"Between 1 and {Limits.MaxCatchUp}."));
            }
            else if (spec.CatchUp != CatchUpPolicy.All)
            {
                errors.Add(("maxCatchUp", "Applies to catchUp: all only (latest fires one missed tick, skip none)."));
            }
        }

        if (spec.StartingDeadlineSeconds is { } deadline && deadline is < 1 or > Limits.MaxStartingDeadlineSeconds)
        {
            errors.Add(("startingDeadlineSeconds", $"Between 1 and {Limits.MaxStartingDeadlineSeconds}."));
        }

        return errors;
    }

    /// <summary>A valid <paramref name="spec"/> as it is stored: its job normalized, UTC spelled out.</summary>
    public static ScheduleSpec Normalize(ScheduleSpec spec) => spec with
    {
        Cron = spec.Cron.Trim(),
        TimeZone = spec.TimeZone ?? "UTC",
        Job = JobSpecValidator.Normalize(spec.Job!),
    };
}
