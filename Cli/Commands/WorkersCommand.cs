using System.CommandLine;
using System.Text.Json.Nodes;
using ControlPlane.Cli.Rendering;
using ControlPlane.Client;
using ControlPlane.Contracts.Workers;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl workers</c>: registered workers with state, slots and capabilities, every page up to
/// <see cref="MaxPages"/> unless <c>--limit</c> or <c>--cursor</c> asks for one page.</summary>
internal static class WorkersCommand
{
    /// <summary>Most pages fetched: a bound, so a huge fleet cannot keep cpctl paging forever.</summary>
    public const int MaxPages = 100;

    /// <summary>Builds the command.</summary>
    public static Command Create(CliRunner runner)
    {
        var limit = new Option<int?>("--limit", "-l") { Description = "Workers per page; with it (or --cursor) only one page is shown." };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after a previous page (its cursor)." };
        var command = new Command("workers", $"List registered workers: state (ready, draining, suspect with its reason, unsupportedProtocol), used/total slots, executors, labels (every page, at most {MaxPages}).")
        {
            limit,
            cursor,
        };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var p = context.Parse;
            var pages = p.GetValue(limit) is null && p.GetValue(cursor) is null ? MaxPages : 1;
            var items = new List<(WorkerView Worker, JsonNode? Body)>();
            var next = string.IsNullOrEmpty(p.GetValue(cursor)) ? null : p.GetValue(cursor);
            long? revision = null;
            for (var page = 0; page < pages && (page == 0 || next is not null); page++)
            {
                var response = await context.Api.SendAsync(ControlPlaneRequest.GetWorkerPage(p.GetValue(limit), next), cancellationToken);
                var read = response.Value;
                var bodies = JsonOutput.Node(response.Content)?["items"]?.AsArray();
                items.AddRange(read.Items.Select((worker, i) => (worker, bodies?[i]?.DeepClone())));
                next = read.Cursor;
                revision ??= read.Revision;
            }

            if (context.Json)
            {
                // Pages are merged into one page-shaped document: items of every page, the cursor left over.
                JsonOutput.Write(context.Out, new JsonObject
                {
                    ["items"] = new JsonArray([.. items.Select(i => i.Body)]),
                    ["cursor"] = next,
                    ["revision"] = revision ?? 0,
                });
            }
            else
            {
                ClusterRendering.WriteWorkers(context.Out, items.Select(i => i.Worker), context.Now);
                if (next is not null)
                {
                    context.Error.WriteLine($"more workers: cpctl workers --cursor {next}");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
