using System.CommandLine;
using System.Globalization;
using System.Net;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using ControlPlane.Contracts.Schedules;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl schedule create|list|get|pause|resume|trigger|delete</c>: recurring jobs (docs/schedules.md).</summary>
internal static class ScheduleCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliRunner runner)
    {
        var command = new Command("schedule", "Recurring jobs: a cron, a time zone and the job each tick creates.")
        {
            CreateCommand(runner),
            ListCommand(runner),
            IdCommand(runner, "get", "Show a schedule: definition, last and next tick, counters and recent runs.", id => ControlPlaneRequest.GetSchedule(id)),
            IdCommand(runner, "pause", "Pause a schedule: no tick fires until it is resumed.", ControlPlaneRequest.PauseSchedule),
            IdCommand(runner, "resume", "Resume a schedule; the ticks it was paused for never fire.", ControlPlaneRequest.ResumeSchedule),
            TriggerCommand(runner),
            DeleteCommand(runner),
        };
        return command;
    }

    private static Command CreateCommand(CliRunner runner)
    {
        var job = new SubmitOptions();
        var cron = new Option<string>("--cron") { Description = "Five fields (minute hour day-of-month month day-of-week), or six with seconds first.", Required = true };
        var zone = new Option<string?>("--time-zone", "--tz") { Description = "IANA time zone the cron is read in (default UTC)." };
        var concurrency = new Option<string?>("--concurrency") { Description = "When a tick comes while a run is active: allow (default), forbid (skip the tick) or replace (cancel the run)." };
        var catchUp = new Option<string?>("--catch-up") { Description = "Ticks that passed while no director led: latest (default: fire the newest), all, or skip." };
        var maxCatchUp = new Option<int?>("--max-catch-up") { Description = $"With --catch-up all: fire at most this many of them, the newest (default {Contracts.Limits.DefaultMaxCatchUp})." };
        var deadline = new Option<int?>("--starting-deadline") { Description = "Seconds after its time a tick may still fire; later it is recorded as missed." };
        var paused = new Option<bool>("--paused") { Description = "Create it paused." };
        var command = new Command("create", "Create a schedule. The job is given as for 'cpctl submit': cpctl schedule create --cron '*/5 * * * *' -k nightly shell -- /bin/echo hi")
        {
            cron, zone, concurrency, catchUp, maxCatchUp, deadline, paused,
        };
        job.AddTo(command, jobOnly: true);
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var parse = context.Parse;
            var jobSpec = job.ToSpec(parse);
            var spec = new ScheduleSpec
            {
                Name = jobSpec.Name,
                Cron = parse.GetValue(cron)!,
                TimeZone = parse.GetValue(zone),
                Job = jobSpec,
                Concurrency = Choice(parse.GetValue(concurrency), "--concurrency", ConcurrencyPolicy.Allow),
                CatchUp = Choice(parse.GetValue(catchUp), "--catch-up", CatchUpPolicy.Latest),
                MaxCatchUp = parse.GetValue(maxCatchUp),
                StartingDeadlineSeconds = parse.GetValue(deadline),
                Paused = parse.GetValue(paused),
            };
            var key = parse.GetValue(job.IdempotencyKey) is { Length: > 0 } k ? k : null;
            var response = await context.Api.SendAsync(ControlPlaneRequest.CreateSchedule(spec, key), cancellationToken);
            var view = response.Value;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await context.Error.WriteLineAsync($"idempotency key already used: returning the existing schedule {view.Id}");
            }

            Write(context, response, view);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListCommand(CliRunner runner)
    {
        var command = new Command("list", "List schedules with their next tick and counters.");
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var items = new List<ScheduleView>();
            string? cursor = null;
            for (var page = 0; page < 1000; page++)
            {
                var read = await context.Api.GetSchedulePageAsync(500, cursor, cancellationToken);
                items.AddRange(read.Items);
                cursor = read.Cursor;
                if (cursor is null)
                {
                    break;
                }
            }

            if (context.Json)
            {
                JsonOutput.Write(context.Out, System.Text.Json.Nodes.JsonNode.Parse(Contracts.ContractJson.Serialize(items)));
            }
            else
            {
                WriteTable(context.Out, items, context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command TriggerCommand(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Schedule id." };
        var command = new Command("trigger", "Run the schedule's job once now, outside the cron; prints the job.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.TriggerSchedule(context.Parse.GetValue(id)!), cancellationToken);
            if (context.Json)
            {
                JsonOutput.Write(context.Out, response.Content);
            }
            else
            {
                JobRendering.WriteTable(context.Out, [response.Value], context.Now);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DeleteCommand(CliRunner runner)
    {
        var id = new Argument<string>("id") { Description = "Schedule id." };
        var command = new Command("delete", "Delete a schedule; the jobs it created stay as they are.") { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            await context.Api.DeleteScheduleAsync(context.Parse.GetValue(id)!, cancellationToken);
            await context.Error.WriteLineAsync($"deleted schedule {context.Parse.GetValue(id)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command IdCommand(CliRunner runner, string name, string description, Func<string, ControlPlaneRequest<ScheduleView>> request)
    {
        var id = new Argument<string>("id") { Description = "Schedule id." };
        var command = new Command(name, description) { id };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(request(context.Parse.GetValue(id)!), cancellationToken);
            Write(context, response, response.Value);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Write(CommandContext context, ControlPlaneResponse<ScheduleView> response, ScheduleView view)
    {
        if (context.Json)
        {
            JsonOutput.Write(context.Out, response.Content);
            return;
        }

        WriteTable(context.Out, [view], context.Now);
        if (view.Recent.Count > 0)
        {
            context.Out.WriteLine();
            var runs = new Table("TICK", "OUTCOME", "JOB", "DETAIL");
            foreach (var run in view.Recent)
            {
                runs.Add(run.Tick.ToString("u", CultureInfo.InvariantCulture), run.Outcome.ToString().ToLowerInvariant(), run.JobId ?? "-", run.Detail ?? "");
            }

            runs.WriteTo(context.Out);
        }
    }

    private static void WriteTable(TextWriter writer, IEnumerable<ScheduleView> schedules, DateTimeOffset now)
    {
        var table = new Table("ID", "NAME", "CRON", "ZONE", "STATE", "NEXT", "FIRED", "SKIPPED", "MISSED");
        foreach (var s in schedules)
        {
            var next = s.NextTick is { } at ? (at > now ? "in " + Ages.Format(at - now) : "due") : "-";
            table.Add(s.Id, s.Spec.Name ?? "", s.Spec.Cron, s.Spec.TimeZone ?? "UTC", s.Spec.Paused ? "paused" : "active", next,
                s.Fired.ToString(CultureInfo.InvariantCulture), s.Skipped.ToString(CultureInfo.InvariantCulture), s.Missed.ToString(CultureInfo.InvariantCulture));
        }

        table.WriteTo(writer);
    }

    private static T Choice<T>(string? value, string option, T fallback)
        where T : struct, Enum
    {
        if (value is null)
        {
            return fallback;
        }

        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(candidate.ToString(), value, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        throw new UsageException($"{option} is one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}, not '{value}'.");
    }
}
