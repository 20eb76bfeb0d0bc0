using System.CommandLine;
using ControlPlane.Cli.Commands;

namespace ControlPlane.Cli;

/// <summary>cpctl's command tree and its entry point, callable in-process (tests run it with a fake HTTP stack).</summary>
internal static class CliApp
{
    /// <summary>Builds the root command and every subcommand.</summary>
    public static RootCommand Build(CliEnvironment environment)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("cpctl: submit, inspect and cancel jobs and workflows of jobs; manage schedules; inspect workers, the leader and the cluster.");
        globals.AddTo(root);
        var runner = new CliRunner(environment, globals);
        root.Subcommands.Add(SubmitCommand.Create(runner));
        root.Subcommands.Add(GetCommand.Create(runner));
        root.Subcommands.Add(ExplainCommand.Create(runner));
        root.Subcommands.Add(ListCommand.Create(runner));
        root.Subcommands.Add(CancelCommand.Create(runner));
        root.Subcommands.Add(WaitCommand.Create(runner));
        root.Subcommands.Add(WorkersCommand.Create(runner));
        root.Subcommands.Add(DrainCommand.Create(runner));
        root.Subcommands.Add(UndrainCommand.Create(runner));
        root.Subcommands.Add(WatchCommand.Create(runner));
        root.Subcommands.Add(LeaderCommand.Create(runner));
        root.Subcommands.Add(ClusterCommand.Create(runner));
        root.Subcommands.Add(CellsCommand.Create(runner));
        root.Subcommands.Add(CellCommand.Create(runner));
        root.Subcommands.Add(ShadowCommand.Create(runner));
        root.Subcommands.Add(RolloutCommand.Create(runner));
        root.Subcommands.Add(DoctorCommand.Create(runner));
        root.Subcommands.Add(ScheduleCommand.Create(runner));
        root.Subcommands.Add(WorkflowCommand.Create(runner));
        root.Subcommands.Add(StoreCommand.Create(runner));
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the command and returns its exit code (<see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        // No response files: an argv word such as "@list.txt" after "--" must reach the job unchanged.
        var parse = Build(environment).Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await environment.Error.WriteLineAsync($"error: {error.Message}");
            }

            await environment.Error.WriteLineAsync("Run 'cpctl --help' or 'cpctl <command> --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = environment.Out,
            Error = environment.Error,
            // Program.cs owns Ctrl-C (it cancels the token); commands map the cancellation to exit code 130.
            ProcessTerminationTimeout = null,
        };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }
}
