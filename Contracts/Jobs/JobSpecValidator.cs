using System.Text.Json;

namespace ControlPlane.Contracts.Jobs;

/// <summary>One problem with a submitted field.</summary>
/// <param name="Field">JSON path of the field, e.g. <c>command[2]</c> or <c>env.PATH</c>.</param>
/// <param name="Message">What is wrong, for a person.</param>
public sealed record FieldError(string Field, string Message);

/// <summary>Checks a <see cref="JobSpec"/> against <see cref="Limits"/> and the executor rules.</summary>
public static class JobSpecValidator
{
    /// <summary>Every problem of <paramref name="spec"/>, empty when it is acceptable. With
    /// <paramref name="inWorkflow"/> its dependencies may name nodes of the same workflow by <c>ref</c> (whether those
    /// exist is the workflow's check); elsewhere a <c>ref</c> is refused.</summary>
    public static IReadOnlyList<FieldError> Validate(JobSpec spec, bool inWorkflow = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<FieldError>();
        if (spec.Name is { Length: > Limits.MaxNameLength })
        {
            errors.Add(new("name", $"At most {Limits.MaxNameLength} characters."));
        }

        if (string.IsNullOrWhiteSpace(spec.Executor))
        {
            errors.Add(new("executor", "Required: \"shell\" or the name of a handler agents registered."));
        }
        else if (spec.Executor.Length > Limits.MaxExecutorLength || !IsName(spec.Executor))
        {
            errors.Add(new("executor", $"1 to {Limits.MaxExecutorLength} characters of letters, digits, '.', '_' and '-'."));
        }

        var shell = spec.Executor == Protocol.ShellExecutor;
        if (shell)
        {
            if (spec.Command is null || spec.Command.Count == 0)
            {
                errors.Add(new("command", "A shell job needs an argv, e.g. [\"/bin/echo\", \"hello\"]."));
            }
        }
        else if (spec.Command is not null)
        {
            errors.Add(new("command", "Only shell jobs take a command; handlers take args."));
        }

        if (spec.Command is { } command)
        {
            if (command.Count > Limits.MaxCommandArgs)
            {
                errors.Add(new("command", $"At most {Limits.MaxCommandArgs} elements; got {command.Count}."));
            }

            for (var i = 0; i < command.Count && i < Limits.MaxCommandArgs; i++)
            {
                if (command[i] is null)
                {
                    errors.Add(new($"command[{i}]", "Must be a string."));
                }
                else if (command[i].Length > Limits.MaxArgLength || command[i].Contains('\0', StringComparison.Ordinal))
                {
                    errors.Add(new($"command[{i}]", $"At most {Limits.MaxArgLength} characters and no NUL."));
                }
            }

            if (command.Count > 0 && string.IsNullOrEmpty(command[0]))
            {
                errors.Add(new("command[0]", "The executable must not be empty."));
            }
        }

        if (spec.Args is { } args)
        {
            if (args.ValueKind == JsonValueKind.Undefined)
            {
                errors.Add(new("args", "Must be a JSON value."));
            }
            else if (args.GetRawText().Length > Limits.MaxArgsBytes)
            {
                errors.Add(new("args", $"At most {Limits.MaxArgsBytes} bytes of JSON."));
            }
        }

        CheckMap(errors, "env", spec.Env, envKey: true);
        CheckMap(errors, "constraints", spec.Constraints, envKey: false);
        if (spec.WorkingDirectory is { } dir && (dir.Length == 0 || dir.Length > Limits.MaxArgLength || dir.Contains('\0', StringComparison.Ordinal) || dir[0] != '/'))
        {
            errors.Add(new("workingDirectory", $"An absolute path (starting with '/') of at most {Limits.MaxArgLength} characters, without NUL."));
        }

        if (spec.Cell is { } cell)
        {
            if (Cells.Problem(cell) is { } problem)
            {
                errors.Add(new("cell", problem));
            }
            else if (inWorkflow && cell != Cells.Default)
            {
                errors.Add(new("cell", $"A workflow's jobs run in the default cell in this version (docs/cells.md); got '{cell}'."));
            }
        }

        if (spec.Slots is < 1 or > Limits.MaxSlots)
        {
            errors.Add(new("slots", $"Between 1 and {Limits.MaxSlots}; got {spec.Slots}."));
        }

        if (spec.Group is { } group && (group.Length == 0 || group.Length > Limits.MaxGroupLength))
        {
            errors.Add(new("group", $"1 to {Limits.MaxGroupLength} characters."));
        }

        if (spec.MaxAttempts is < 1 or > Limits.MaxAttempts)
        {
            errors.Add(new("maxAttempts", $"Between 1 and {Limits.MaxAttempts}; got {spec.MaxAttempts}."));
        }

        if (spec.TimeoutSeconds is { } timeout && (timeout < 1 || timeout > Limits.MaxTimeoutSeconds))
        {
            errors.Add(new("timeoutSeconds", $"Between 1 and {Limits.MaxTimeoutSeconds}, or null for no limit; got {timeout}."));
        }

        CheckStart(errors, spec, inWorkflow);
        CheckConcurrency(errors, spec.Concurrency);
        return errors;
    }

    /// <summary><c>concurrency</c>: a key of 1 to <see cref="Limits.MaxConcurrencyKeyLength"/> characters without
    /// control characters, and a limit from 1 to <see cref="Limits.MaxConcurrencyLimit"/>.</summary>
    private static void CheckConcurrency(List<FieldError> errors, JobConcurrency? concurrency)
    {
        if (concurrency is null)
        {
            return;
        }

        if (string.IsNullOrEmpty(concurrency.Key) || concurrency.Key.Length > Limits.MaxConcurrencyKeyLength || concurrency.Key.Any(char.IsControl))
        {
            errors.Add(new("concurrency.key", $"Required: 1 to {Limits.MaxConcurrencyKeyLength} characters, no control characters."));
        }

        if (concurrency.Limit is < 1 or > Limits.MaxConcurrencyLimit)
        {
            errors.Add(new("concurrency.limit", $"Required: between 1 and {Limits.MaxConcurrencyLimit}; got {concurrency.Limit}."));
        }
    }

    /// <summary><c>runAt</c>, <c>delaySeconds</c> and <c>dependsOn</c>: their shapes (whether the dependencies
    /// exist is the accepting director's check).</summary>
    private static void CheckStart(List<FieldError> errors, JobSpec spec, bool inWorkflow)
    {
        if (spec.RunAt is not null && spec.DelaySeconds is not null)
        {
            errors.Add(new("delaySeconds", "Give runAt or delaySeconds, not both."));
        }
        else if (spec.DelaySeconds is { } delay && (delay < 0 || delay > Limits.MaxDelaySeconds))
        {
            errors.Add(new("delaySeconds", $"Between 0 and {Limits.MaxDelaySeconds}; got {delay}."));
        }

        if (spec.DependsOn is not { } dependencies)
        {
            return;
        }

        if (dependencies.Count > Limits.MaxDependencies)
        {
            errors.Add(new("dependsOn", $"At most {Limits.MaxDependencies} dependencies; got {dependencies.Count}. Join wider fan-ins through intermediate jobs."));
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < dependencies.Count; i++)
        {
            var dependency = dependencies[i];
            if (dependency is null)
            {
                errors.Add(new($"dependsOn[{i}]", "Must be an object {\"job\": \"<id>\", \"on\": \"success\"|\"failure\"|\"completion\"}."));
                continue;
            }

            var byRef = dependency.Ref is not null;
            if (byRef && !inWorkflow)
            {
                errors.Add(new($"dependsOn[{i}].ref", "A ref names another node of the same workflow: submit the jobs together with POST /v1/workflows, or give the job id."));
            }
            else if (byRef && !string.IsNullOrEmpty(dependency.Job))
            {
                errors.Add(new($"dependsOn[{i}]", "Give job or ref, not both."));
            }
            else if (byRef && !IsWorkflowRef(dependency.Ref!))
            {
                errors.Add(new($"dependsOn[{i}].ref", $"1 to {Limits.MaxWorkflowRefLength} characters of letters, digits, '.', '_' and '-'."));
            }
            else if (!byRef && !JobIds.IsValid(dependency.Job))
            {
                errors.Add(new($"dependsOn[{i}].job", inWorkflow ? "Must be the id of an existing job, or give ref to name a node of this workflow." : "Must be the id of an existing job."));
            }
            else if (!seen.Add(byRef ? "ref:" + dependency.Ref : dependency.Job))
            {
                errors.Add(byRef
                    ? new($"dependsOn[{i}].ref", $"Node {dependency.Ref} is listed twice.")
                    : new($"dependsOn[{i}].job", $"Job {dependency.Job} is listed twice."));
            }
            else if (!Enum.IsDefined(dependency.On))
            {
                errors.Add(new($"dependsOn[{i}].on", "Must be \"success\", \"failure\" or \"completion\"."));
            }
        }
    }

    /// <summary>A workflow node's <c>ref</c>: 1 to <see cref="Limits.MaxWorkflowRefLength"/> characters of letters,
    /// digits, '.', '_' and '-'.</summary>
    public static bool IsWorkflowRef(string value) =>
        value is { Length: > 0 and <= Limits.MaxWorkflowRefLength } && IsName(value);

    /// <summary>The spec as stored: empty collections dropped, so equal submissions compare equal.</summary>
    public static JobSpec Normalize(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec with
        {
            Name = string.IsNullOrEmpty(spec.Name) ? null : spec.Name,
            Env = spec.Env is { Count: > 0 } env ? new SortedDictionary<string, string>(env.ToDictionary(), StringComparer.Ordinal) : null,
            Constraints = spec.Constraints is { Count: > 0 } c ? new SortedDictionary<string, string>(c.ToDictionary(), StringComparer.Ordinal) : null,
            DependsOn = spec.DependsOn is { Count: > 0 } d ? d : null,
        };
    }

    /// <summary>The agent features a job needs beyond its executor (see <see cref="Protocol.Features"/>).</summary>
    public static IEnumerable<string> RequiredFeatures(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Env is { Count: > 0 })
        {
            yield return Protocol.Features.Env;
        }

        if (spec.TimeoutSeconds is not null)
        {
            yield return Protocol.Features.Timeout;
        }

        if (spec.WorkingDirectory is not null)
        {
            yield return Protocol.Features.WorkingDirectory;
        }
    }

    private static void CheckMap(List<FieldError> errors, string field, IReadOnlyDictionary<string, string>? map, bool envKey)
    {
        if (map is null)
        {
            return;
        }

        if (map.Count > Limits.MaxMapEntries)
        {
            errors.Add(new(field, $"At most {Limits.MaxMapEntries} entries; got {map.Count}."));
            return;
        }

        foreach (var (key, value) in map)
        {
            var valid = envKey ? IsEnvName(key) : IsName(key);
            if (key.Length == 0 || key.Length > Limits.MaxMapKeyLength || !valid)
            {
                errors.Add(new($"{field}.{key}", envKey
                    ? $"Names are 1 to {Limits.MaxMapKeyLength} characters of letters, digits and '_', not starting with a digit."
                    : $"Names are 1 to {Limits.MaxMapKeyLength} characters of letters, digits, '.', '_' and '-'."));
            }
            else if (value is null || value.Length > Limits.MaxMapValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add(new($"{field}.{key}", $"Values are strings of at most {Limits.MaxMapValueLength} characters without NUL."));
            }
        }
    }

    /// <summary>Letters, digits, '.', '_' and '-': executor names, labels, worker ids.</summary>
    public static bool IsName(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return value is not ("." or "..");
    }

    private static bool IsEnvName(string value)
    {
        if (value.Length == 0 || char.IsAsciiDigit(value[0]))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
