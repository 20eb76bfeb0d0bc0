using System.CommandLine;
using System.Text.Json;
using ControlPlane.Cli.Parsing;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Cli.Commands;

/// <summary>The arguments and options of <c>submit</c>, and how they become a <see cref="JobSpec"/>.</summary>
internal sealed class SubmitOptions
{
    public Argument<string> Executor { get; } = new("executor") { Description = "\"shell\", or the name of a handler agents registered." };

    public Argument<string[]> Argv { get; } = new("argv")
    {
        Description = "Shell jobs: the executable and its arguments, after '--'. Never passed through a shell.",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string?> Command { get; } = new("--command") { Description = "Shell argv as a JSON array, instead of '--': '[\"/bin/sh\",\"-c\",\"echo hi\"]'." };

    public Option<string?> Args { get; } = new("--args") { Description = "Handler payload as JSON: '{\"n\": 3}'." };

    public Option<string[]> Env { get; } = new("--env", "-e") { Description = "Environment variable KEY=VALUE for a shell job (repeatable)." };

    public Option<string[]> Constraints { get; } = new("--constraint", "-c") { Description = "Worker label KEY=VALUE the job needs (repeatable)." };

    public Option<string?> WorkingDirectory { get; } = new("--working-directory", "-w") { Description = "Working directory of a shell job." };

    public Option<int?> Slots { get; } = new("--slots") { Description = "Slots the job takes on its worker (default 1)." };

    public Option<int?> Priority { get; } = new("--priority", "-p") { Description = "Higher runs first (default 0)." };

    public Option<string?> Group { get; } = new("--group", "-g") { Description = "FIFO group: one job of a group runs at a time, in submission order." };

    public Option<int?> MaxAttempts { get; } = new("--max-attempts") { Description = "Attempts before the job fails for good (default 3)." };

    public Option<string?> Timeout { get; } = new("--timeout") { Description = "Time one attempt may run: 30s, 10m, 2h (default: no limit)." };

    public Option<string?> Name { get; } = new("--name", "-n") { Description = "Label for people; not unique." };

    public Option<string?> RunAt { get; } = new("--run-at") { Description = "Start no earlier than this time (ISO 8601 with an offset, e.g. 2026-12-24T09:00:00Z), judged on the leader's clock." };

    public Option<string?> Delay { get; } = new("--delay") { Description = "Start no earlier than this long after the director accepts it: 30s, 10m, 2h." };

    public Option<string[]> After { get; } = new("--after")
    {
        Description = "Wait for job ID to end first: ID (needs success), ID:failure or ID:completion (repeatable). The job is Skipped when one ends otherwise.",
    };

    public Option<string?> Concurrency { get; } = new("--concurrency")
    {
        Description = "KEY:LIMIT: at most LIMIT jobs with concurrency key KEY run at once, across failovers (the key may contain ':'; the last one splits).",
    };

    /// <summary>The same as <see cref="Concurrency"/> for <c>cpctl schedule create</c>, whose <c>--concurrency</c> is the
    /// schedule's own policy (allow, forbid, replace).</summary>
    public Option<string?> JobConcurrency { get; } = new("--job-concurrency")
    {
        Description = "KEY:LIMIT for each tick's job: at most LIMIT jobs with concurrency key KEY run at once, across failovers.",
    };

    public Option<string?> IdempotencyKey { get; } = new("--idempotency-key", "-k") { Description = "Submitting again with the same key returns the first job instead of a new one." };

    public Option<bool> Wait { get; } = new("--wait") { Description = "Wait until the job finishes; exit code as for 'cpctl wait'." };

    public Option<string?> WaitTimeout { get; } = new("--wait-timeout") { Description = $"Give up waiting after this long (default {WaitCommand.DefaultTimeout})." };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "Print only the job id." };

    public Option<string?> RetryFor { get; } = new("--retry-for")
    {
        Description = $"While the director refuses new jobs (429: too many pending), wait its Retry-After and try again for at most this long; 0 never retries (default {BusyRetry.DefaultRetryFor}).",
    };

    /// <summary>Adds every argument and option to <paramref name="command"/>.</summary>
    public void AddTo(Command command) => AddTo(command, jobOnly: false);

    /// <summary>Adds the arguments and options to <paramref name="command"/>; with <paramref name="jobOnly"/> only those
    /// that define the job (what <c>cpctl schedule create</c> takes), not how to submit or wait.</summary>
    public void AddTo(Command command, bool jobOnly)
    {
        command.Arguments.Add(Executor);
        command.Arguments.Add(Argv);
        Option[] options = jobOnly
            ? [Command, Args, Env, Constraints, WorkingDirectory, Slots, Priority, Group, JobConcurrency, MaxAttempts, Timeout, Name, IdempotencyKey]
            : [Command, Args, Env, Constraints, WorkingDirectory, Slots, Priority, Group, Concurrency, MaxAttempts, Timeout, Name, RunAt, Delay, After, IdempotencyKey, Wait, WaitTimeout, Quiet, RetryFor];
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The spec the command line describes. Limits are left to the director, which answers with field errors.</summary>
    /// <exception cref="UsageException">Malformed JSON, KEY=VALUE or duration, or argv given twice.</exception>
    public JobSpec ToSpec(ParseResult parse)
    {
        var argv = parse.GetValue(Argv) ?? [];
        var commandJson = parse.GetValue(Command);
        if (argv.Length > 0 && commandJson is not null)
        {
            throw new UsageException("give the argv either after '--' or with --command, not both.");
        }

        var timeout = parse.GetValue(Timeout) is { } text ? Durations.Parse(text, "--timeout") : (TimeSpan?)null;
        var delay = parse.GetValue(Delay) is { } delayText ? Durations.Parse(delayText, "--delay") : (TimeSpan?)null;
        var defaults = new JobSpec();
        return new JobSpec
        {
            Name = parse.GetValue(Name),
            Executor = parse.GetValue(Executor) ?? "",
            Command = argv.Length > 0 ? argv : commandJson is null ? null : ParseJson<string[]>(commandJson, "--command", "a JSON array of strings"),
            Args = parse.GetValue(Args) is { } args ? ParseJson<JsonElement>(args, "--args", "JSON") : null,
            Env = KeyValues.Parse(parse.GetValue(Env), "--env"),
            Constraints = KeyValues.Parse(parse.GetValue(Constraints), "--constraint"),
            WorkingDirectory = parse.GetValue(WorkingDirectory),
            Slots = parse.GetValue(Slots) ?? defaults.Slots,
            Priority = parse.GetValue(Priority) ?? defaults.Priority,
            Group = parse.GetValue(Group),
            MaxAttempts = parse.GetValue(MaxAttempts) ?? defaults.MaxAttempts,
            // Whole seconds, rounded up: "1.5s" must not become a 1 s limit that kills the job early.
            TimeoutSeconds = timeout is { } t ? (int)Math.Min(int.MaxValue, Math.Ceiling(t.TotalSeconds)) : null,
            RunAt = parse.GetValue(RunAt) is { } runAt ? ParseTime(runAt, "--run-at") : null,

            // Whole seconds, rounded up: "1.5s" must not start it early.
            DelaySeconds = delay is { } d ? (int)Math.Min(int.MaxValue, Math.Ceiling(d.TotalSeconds)) : null,
            DependsOn = parse.GetValue(After) is { Length: > 0 } after ? [.. after.Select(ParseDependency)] : null,
            Concurrency = (parse.GetValue(Concurrency) ?? parse.GetValue(JobConcurrency)) is { } concurrency ? ParseConcurrency(concurrency) : null,
        };
    }

    /// <summary><c>KEY:LIMIT</c>, split at the last colon (a key may contain colons). The key's length and the
    /// limit's range are the director's to judge (it names <c>concurrency.key</c> or <c>concurrency.limit</c>).</summary>
    private static Contracts.Jobs.JobConcurrency ParseConcurrency(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit))
        {
            throw new UsageException($"--concurrency (--job-concurrency) takes KEY:LIMIT, e.g. payments-api:5; got '{text}'.");
        }

        return new Contracts.Jobs.JobConcurrency { Key = text[..colon], Limit = limit };
    }

    /// <summary><c>ID</c>, <c>ID:success</c>, <c>ID:failure</c> or <c>ID:completion</c>.</summary>
    private static JobDependency ParseDependency(string text)
    {
        var colon = text.LastIndexOf(':');
        var id = colon < 0 ? text : text[..colon];
        var condition = colon < 0 ? nameof(DependencyCondition.Success) : text[(colon + 1)..];
        if (id.Length == 0 || !Enum.TryParse<DependencyCondition>(condition, ignoreCase: true, out var on) || !Enum.IsDefined(on) || int.TryParse(condition, out _))
        {
            throw new UsageException($"--after takes ID, ID:success, ID:failure or ID:completion; got '{text}'.");
        }

        return new JobDependency { Job = id, On = on };
    }

    private static DateTimeOffset ParseTime(string text, string option) =>
        DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var at)
        && (text.EndsWith('Z') || text.EndsWith('z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9)
            ? at
            : throw new UsageException($"{option} takes an ISO 8601 time with an offset, e.g. 2026-12-24T09:00:00Z; got '{text}'.");

    private static T ParseJson<T>(string text, string option, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, ContractJson.Options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{option} takes {what}: {e.Message}");
        }
    }
}
