using ControlPlane.Contracts;
using ControlPlane.Contracts.Schedules;
using Cronos;

namespace ControlPlane.Director.Scheduling;

/// <summary>
/// A schedule's cron read in its time zone: the ticks, as instants. Parsing and every next/previous occurrence
/// (daylight-saving gaps and overlaps included) are Cronos's; this type only chooses the format by the number of
/// fields and names what is wrong with a bad definition. Immutable and thread-safe.
/// </summary>
internal sealed class CronTimetable
{
    private readonly CronExpression _cron;
    private readonly TimeZoneInfo _zone;

    private CronTimetable(CronExpression cron, TimeZoneInfo zone)
    {
        _cron = cron;
        _zone = zone;
    }

    /// <summary>The zone ticks are computed in.</summary>
    public TimeZoneInfo Zone => _zone;

    /// <summary>
    /// Reads <paramref name="spec"/>'s cron and zone; on failure, <paramref name="errors"/> names each bad field
    /// (<c>cron</c>, <c>timeZone</c>) with what a client should send instead.
    /// </summary>
    public static CronTimetable? TryCreate(ScheduleSpec spec, List<(string Field, string Message)> errors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        var cron = ParseCron(spec.Cron, errors);
        var zone = FindZone(spec.TimeZone, errors);
        return errors.Count == before ? new CronTimetable(cron!, zone!) : null;
    }

    /// <summary>The first tick strictly after <paramref name="after"/>, or null when the cron never fires again.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => _cron.GetNextOccurrence(after, _zone, inclusive: false);

    /// <summary>Ticks in (<paramref name="after"/>, <paramref name="upTo"/>], oldest first, computed lazily.</summary>
    public IEnumerable<DateTimeOffset> Ascending(DateTimeOffset after, DateTimeOffset upTo) =>
        upTo <= after ? [] : _cron.GetOccurrences(after, upTo, _zone, fromInclusive: false, toInclusive: true);

    /// <summary>Ticks in (<paramref name="after"/>, <paramref name="upTo"/>], newest first, computed lazily.</summary>
    public IEnumerable<DateTimeOffset> Descending(DateTimeOffset upTo, DateTimeOffset after) =>
        upTo <= after ? [] : _cron.GetOccurrencesDescending(upTo, after, _zone, fromInclusive: true, toInclusive: false);

    private static CronExpression? ParseCron(string? text, List<(string Field, string Message)> errors)
    {
        const string Shape = "Five fields (minute hour day-of-month month day-of-week), or six with seconds first, e.g. \"*/5 * * * *\"";
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(("cron", $"Required. {Shape}."));
            return null;
        }

        if (text.Length > Limits.MaxCronLength)
        {
            errors.Add(("cron", $"At most {Limits.MaxCronLength} characters."));
            return null;
        }

        var fields = text.Split(' ', '\t').Count(f => f.Length > 0);
        if (fields is not (5 or 6))
        {
            errors.Add(("cron", $"{Shape}; found {fields}."));
            return null;
        }

        try
        {
            return CronExpression.Parse(text.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            errors.Add(("cron", $"Not a valid cron expression: {e.Message.TrimEnd('.')}."));
            return null;
        }
    }

    private static TimeZoneInfo? FindZone(string? id, List<(string Field, string Message)> errors)
    {
        if (id is null)
        {
            return TimeZoneInfo.Utc;
        }

        if (id.Length is 0 or > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
        {
            errors.Add(("timeZone", $"Not a known IANA time zone id (such as \"UTC\" or \"Europe/Berlin\"): \"{Truncate(id)}\"."));
            return null;
        }

        return zone;
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
