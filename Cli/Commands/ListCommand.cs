using System.CommandLine;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl list</c>: a page of jobs, or with <c>--all</c> every page up to <see cref="MaxPages"/>.</summary>
internal static class ListCommand
{
    /// <summary>Most pages <c>--all</c> fetches: a bound, so a huge backlog cannot keep cpctl paging forever.</summary>
    public const int MaxPages = 100;

    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var state = new Option<JobState?>("--state", "-s") { Description = "Only jobs in this state." };
        var group = new Option<string?>("--group", "-g") { Description = "Only jobs of this FIFO group." };
        var schedule = new Option<string?>("--schedule") { Description = "Only jobs this schedule created." };
        var limit = new Option<int?>("--limit", "-l") { Description = "Jobs per page (the director caps it)." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after a previous page (its cursor)." };
        var all = new Option<bool>("--all", "-A") { Description = $"Follow cursors to the end (at most {MaxPages} pages)." };
        var command = new Command("list", "List jobs, optionally by state, group or schedule.") { state, group, schedule, limit, cursor, all };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var p = context.Parse;
            var pages = p.GetValue(all) ? MaxPages : 1;
            var items = new List<(JobView Job, JsonNode? Body)>();
            var next = NullIfEmpty(p.GetValue(cursor));
            long? revision = null;
            // An empty value is no filter, as it always was for cpctl.
            var filter = new JobFilter { State = p.GetValue(state), Group = NullIfEmpty(p.GetValue(group)), ScheduleId = NullIfEmpty(p.GetValue(schedule)), PageSize = p.GetValue(limit) };
            for (var page = 0; page < pages && (page == 0 || next is not null); page++)
            {
                var response = await context.Api.SendAsync(ControlPlaneRequest.GetJobPage(filter, next), cancellationToken);
                var read = response.Value;
                var bodies = JsonOutput.Node(response.Content)?["items"]?.AsArray();
                items.AddRange(read.Items.Select((job, i) => (job, bodies?[i]?.DeepClone())));
                next = read.Cursor;
                revision ??= read.Revision;
            }

            Write(context, items, next, revision ?? 0);
            return ExitCodes.Success;
        });
        return command;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static void Write(CommandContext context, List<(JobView Job, JsonNode? Body)> items, string? next, long revision)
    {
        if (context.Json)
        {
            // Pages are merged into one page-shaped document: items of every page, the cursor left over.
            JsonOutput.Write(context.Out, new JsonObject
            {
                ["items"] = new JsonArray([.. items.Select(i => i.Body)]),
                ["cursor"] = next,
                ["revision"] = revision,
            });
            return;
        }

        JobRendering.WriteTable(context.Out, items.Select(i => i.Job), context.Now);
        if (next is not null)
        {
            context.Error.WriteLine($"more jobs: cpctl list --cursor {next} (or --all)");
        }
    }
}
