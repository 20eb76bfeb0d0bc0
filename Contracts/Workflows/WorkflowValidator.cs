using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Contracts.Workflows;

/// <summary>Checks a <see cref="WorkflowSpec"/> and turns it into the jobs it stands for.</summary>
public static class WorkflowValidator
{
    /// <summary>
    /// Every problem of <paramref name="spec"/>, each naming its field (<c>jobs[3].job.dependsOn[0].ref</c>): a bad
    /// node, a duplicate or missing ref, a node that depends on itself, or a cycle (named by its refs). Whether the
    /// jobs it names by id exist is the accepting director's check. Cost: O(nodes + edges).
    /// </summary>
    public static IReadOnlyList<FieldError> Validate(WorkflowSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<FieldError>();
        if (spec.Name is { Length: > Limits.MaxNameLength })
        {
            errors.Add(new("name", $"At most {Limits.MaxNameLength} characters."));
        }

        if (spec.Jobs is not { Count: > 0 } nodes)
        {
            errors.Add(new("jobs", "A workflow needs at least one job."));
            return errors;
        }

        if (nodes.Count > Limits.MaxWorkflowNodes)
        {
            errors.Add(new("jobs", $"At most {Limits.MaxWorkflowNodes} jobs in one workflow; got {nodes.Count}."));
            return errors;
        }

        var indexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            if (node is null)
            {
                errors.Add(new($"jobs[{i}]", "Must be an object {\"ref\": \"<name>\", \"job\": {…}}."));
                continue;
            }

            if (node.Ref is null || !JobSpecValidator.IsWorkflowRef(node.Ref))
            {
                errors.Add(new($"jobs[{i}].ref", $"Required: 1 to {Limits.MaxWorkflowRefLength} characters of letters, digits, '.', '_' and '-'."));
            }
            else if (!indexOf.TryAdd(node.Ref, i))
            {
                errors.Add(new($"jobs[{i}].ref", $"Ref {node.Ref} is already the name of jobs[{indexOf[node.Ref]}]."));
            }

            if (node.Job is null)
            {
                errors.Add(new($"jobs[{i}].job", "Required: the job, as for POST /v1/jobs."));
                continue;
            }

            errors.AddRange(JobSpecValidator.Validate(node.Job, inWorkflow: true).Select(e => new FieldError($"jobs[{i}].job.{e.Field}", e.Message)));
            if (ContractJson.Serialize(JobSpecValidator.Normalize(node.Job)).Length > Limits.MaxBodyBytes)
            {
                errors.Add(new($"jobs[{i}].job", $"At most {Limits.MaxBodyBytes} bytes of JSON, as for POST /v1/jobs."));
            }
        }

        if (errors.Count > 0)
        {
            return errors; // refs and edges are only checked on well-formed nodes
        }

        // Every ref must name a node, and not the node itself.
        var edges = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            edges[i] = [];
            var dependencies = nodes[i].Job.DependsOn ?? [];
            for (var d = 0; d < dependencies.Count; d++)
            {
                if (dependencies[d].Ref is not { } target)
                {
                    continue;
                }

                var field = $"jobs[{i}].job.dependsOn[{d}].ref";
                if (!indexOf.TryGetValue(target, out var j))
                {
                    errors.Add(new(field, $"No job of this workflow has ref {target}."));
                }
                else if (j == i)
                {
                    errors.Add(new(field, $"Job {target} cannot depend on itself."));
                }
                else
                {
                    edges[i].Add(j);
                }
            }
        }

        if (errors.Count == 0 && FindCycle(nodes, edges) is { } cycle)
        {
            errors.Add(cycle);
        }

        return errors;
    }

    /// <summary>
    /// The jobs of a valid <paramref name="spec"/> as workflow <paramref name="workflowId"/> stores them, in node order:
    /// each node's normalized spec with its refs resolved to the job ids of the nodes they name
    /// (<see cref="WorkflowIds.NodeJobId"/>). Call only after <see cref="Validate"/> found nothing.
    /// </summary>
    public static IReadOnlyList<(string JobId, string Ref, JobSpec Spec)> Resolve(WorkflowSpec spec, string workflowId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Jobs.Count; i++)
        {
            ids[spec.Jobs[i].Ref] = WorkflowIds.NodeJobId(workflowId, i);
        }

        return [.. spec.Jobs.Select((node, i) =>
        {
            var normalized = JobSpecValidator.Normalize(node.Job);
            var resolved = normalized.DependsOn is { } dependencies
                ? normalized with { DependsOn = [.. dependencies.Select(d => d.Ref is { } target ? new JobDependency { Job = ids[target], On = d.On } : d)] }
                : normalized;
            return (ids[node.Ref], node.Ref, resolved);
        })];
    }

    /// <summary>A cycle among the ref edges, as the error naming it, or null. Kahn's algorithm removes every node that
    /// is not on or behind a cycle; from any node left, following its remaining edges must come back to a node already
    /// visited, and the nodes from that one on are a cycle.</summary>
    private static FieldError? FindCycle(List<WorkflowNode> nodes, List<int>[] edges)
    {
        var dependents = new List<int>[nodes.Count];
        var remaining = new int[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            dependents[i] ??= [];
            foreach (var j in edges[i])
            {
                (dependents[j] ??= []).Add(i);
            }

            remaining[i] = edges[i].Count;
        }

        var ready = new Queue<int>(Enumerable.Range(0, nodes.Count).Where(i => remaining[i] == 0));
        var done = 0;
        while (ready.TryDequeue(out var i))
        {
            done++;
            foreach (var dependent in dependents[i])
            {
                if (--remaining[dependent] == 0)
                {
                    ready.Enqueue(dependent);
                }
            }
        }

        if (done == nodes.Count)
        {
            return null;
        }

        var start = Array.FindIndex(remaining, r => r > 0);
        var position = new Dictionary<int, int>();
        var path = new List<int>();
        var at = start;
        while (!position.ContainsKey(at))
        {
            position[at] = path.Count;
            path.Add(at);
            at = edges[at].First(j => remaining[j] > 0);
        }

        var cycle = path.Skip(position[at]).Append(at).ToList();
        var first = cycle[0];
        var edge = nodes[first].Job.DependsOn!.Select((d, k) => (d, k)).First(e => e.d.Ref == nodes[cycle[1]].Ref).k;
        return new FieldError(
            $"jobs[{first}].job.dependsOn[{edge}].ref",
            $"The dependencies form a cycle: {string.Join(" → ", cycle.Select(n => nodes[n].Ref))} (each waits for the next).");
    }
}
