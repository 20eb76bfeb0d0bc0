using System.CommandLine;
using System.Globalization;
using ControlPlane.Cli.Parsing;
using ControlPlane.Client;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;

namespace ControlPlane.Cli.Commands;

/// <summary><c>cpctl rollout start|status|halt</c>: progressive feature rollouts (docs/cells.md, "Progressive feature rollout").</summary>
internal static class RolloutCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create(CliRunner runner) => new("rollout", "Switch an experimental agent feature (x-…) on for a growing share of a cell's agents, halted by itself when jobs fail more often where it is on.")
    {
        StartCommand(runner),
        StatusCommand(runner),
        HaltCommand(runner),
    };

    private static Option<string> CellOption() => new("--cell") { Description = "The cell (docs/cells.md).", DefaultValueFactory = _ => Cells.Default };

    private static Command StartCommand(CliRunner runner)
    {
        var feature = new Argument<string>("feature") { Description = "The feature: 'x-' then lowercase letters, digits or '-'." };
        var cell = CellOption();
        var steps = new Option<string?>("--steps") { Description = "Shares in percent, increasing, ending at 100 (default 10,50,100)." };
        var margin = new Option<double?>("--margin") { Description = $"How much higher (0 to 1) the failure rate with the feature may be before it halts (default {RolloutSpec.DefaultMargin})." };
        var minJobs = new Option<int?>("--min-jobs") { Description = $"Finished jobs each group needs before a step is judged (default {RolloutSpec.DefaultMinJobs})." };
        var interval = new Option<string?>("--step-interval") { Description = "Least time per step, e.g. 30s, 5m (default 5m)." };
        var command = new Command("start", "Start a rollout: cpctl rollout start x-fast-reports --cell a --steps 10,50,100 --margin 0.05") { feature, cell, steps, margin, minJobs, interval };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var parse = context.Parse;
            var spec = new RolloutSpec
            {
                Feature = parse.GetValue(feature),
                Steps = parse.GetValue(steps) is { } text ? ParseSteps(text) : null,
                Margin = parse.GetValue(margin),
                MinJobs = parse.GetValue(minJobs),
                StepSeconds = parse.GetValue(interval) is { } every ? Durations.Parse(every, "--step-interval").TotalSeconds : null,
                By = Environment.UserName,
            };
            var response = await context.Api.SendAsync(ControlPlaneRequest.StartRollout(parse.GetValue(cell)!, spec), cancellationToken);
            Write(context, response.Content, [response.Value]);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command StatusCommand(CliRunner runner)
    {
        var feature = new Argument<string?>("feature") { Description = "One rollout; every rollout of the cell when left out.", Arity = ArgumentArity.ZeroOrOne };
        var cell = CellOption();
        var command = new Command("status", "Show a cell's rollouts: share, state, the agents with the feature, and each judged step.") { feature, cell };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var named = context.Parse.GetValue(feature);
            var where = context.Parse.GetValue(cell)!;
            if (named is null)
            {
                var all = await context.Api.SendAsync(ControlPlaneRequest.GetRollouts(where), cancellationToken);
                Write(context, all.Content, all.Value);
            }
            else
            {
                var one = await context.Api.SendAsync(ControlPlaneRequest.GetRollout(where, named), cancellationToken);
                Write(context, one.Content, [one.Value]);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command HaltCommand(CliRunner runner)
    {
        var feature = new Argument<string>("feature") { Description = "The rollout's feature." };
        var cell = CellOption();
        var command = new Command("halt", "Halt a rollout: the feature goes off on every agent of the cell.") { feature, cell };
        runner.Bind(command, async (context, cancellationToken) =>
        {
            var response = await context.Api.SendAsync(ControlPlaneRequest.HaltRollout(context.Parse.GetValue(cell)!, context.Parse.GetValue(feature)!), cancellationToken);
            Write(context, response.Content, [response.Value]);
            return ExitCodes.Success;
        });
        return command;
    }

    private static List<int> ParseSteps(string text)
    {
        var steps = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part.TrimEnd('%'), NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            {
                throw new UsageException($"--steps: '{part}' is not a whole percentage; give e.g. 10,50,100.");
            }

            steps.Add(step);
        }

        return steps;
    }

    private static void Write(CommandContext context, ReadOnlyMemory<byte> content, IEnumerable<RolloutView> views)
    {
        if (context.Json)
        {
            Rendering.JsonOutput.Write(context.Out, content);
            return;
        }

        var c = CultureInfo.InvariantCulture;
        var table = new Rendering.Table("CELL", "FEATURE", "STATE", "SHARE", "STEP", "AGENTS", "STARTED", "REASON");
        var list = views.ToList();
        foreach (var v in list)
        {
            var r = v.Rollout;
            table.Add(v.Cell, r.Feature, r.State.ToString().ToLowerInvariant(), string.Create(c, $"{r.Share} %"),
                string.Create(c, $"{r.Step + 1}/{r.Steps.Count}"), string.Create(c, $"{v.AgentsWithFeature.Count}/{v.Agents}"),
                Rendering.Ages.Since(r.StartedAt, context.Now) + " ago", r.Reason ?? "");
        }

        table.WriteTo(context.Out);
        foreach (var v in list)
        {
            foreach (var step in v.Rollout.History)
            {
                context.Out.WriteLine(string.Create(c,
                    $"{v.Rollout.Feature} at {step.Share} %: with {step.With.Failed}/{step.With.Finished} failed, without {step.Without.Failed}/{step.Without.Finished} failed: {step.Outcome}"));
            }
        }
    }
}
