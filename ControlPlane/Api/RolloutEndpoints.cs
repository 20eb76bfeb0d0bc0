using ControlPlane.Contracts;
using ControlPlane.Contracts.Rollouts;

namespace ControlPlane.Director.Api;

/// <summary><c>/v1/cells/{cell}/rollouts</c>: progressive feature rollouts (docs/cells.md, "Progressive feature rollout").</summary>
internal static class RolloutEndpoints
{
    public static RouteGroupBuilder MapRolloutEndpoints(this RouteGroupBuilder v1)
    {
        var rollouts = v1.MapGroup("/cells/{cell}/rollouts").WithTags("Cluster");
        rollouts.MapPost("", StartAsync)
            .WithName("StartRollout")
            .WithSummary("Starts switching an experimental feature (x-…) on for a growing share of the cell's agents; the cell's leader advances it step by step and halts it when jobs fail more often on the agents that have it.")
            .Accepts<RolloutSpec>("application/json")
            .Produces<RolloutView>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        rollouts.MapGet("", ListAsync)
            .WithName("ListRollouts")
            .WithSummary("The cell's rollouts with their step, state, history and the agents that advertise the feature.")
            .Produces<IReadOnlyList<RolloutView>>()
            .ProducesValidationProblem();
        rollouts.MapGet("/{feature}", GetAsync)
            .WithName("GetRollout")
            .WithSummary("One rollout of the cell.")
            .Produces<RolloutView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        rollouts.MapPost("/{feature}/halt", HaltAsync)
            .WithName("HaltRollout")
            .WithSummary("Halts a rollout (running or completed): the feature goes off on every agent of the cell. Idempotent.")
            .Produces<RolloutView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return v1;
    }

    private static async Task<IResult> StartAsync(string cell, HttpContext context, RolloutService rollouts, CancellationToken cancellationToken)
    {
        if (await CellProblemAsync(cell, rollouts, cancellationToken) is { } problem)
        {
            return problem;
        }

        var (spec, bodyProblem) = await SpecReader.ReadAsync<RolloutSpec>(context.Request, cancellationToken);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        if (spec!.Problems() is { Count: > 0 } problems)
        {
            return Problems.Fields(problems, "Nothing was started.");
        }

        var (result, view) = await rollouts.StartAsync(cell, spec, cancellationToken);
        return result switch
        {
            RolloutWriteResult.Done => TypedResults.Created($"/v1/cells/{cell}/rollouts/{spec.Feature}", view),
            RolloutWriteResult.Running => Problems.Conflict(
                $"A rollout of {spec.Feature} is running in cell {cell} (at {view!.Rollout.Share} %); halt it first (POST /v1/cells/{cell}/rollouts/{spec.Feature}/halt)."),
            _ => Problems.Conflict($"The rollout of {spec.Feature} in cell {cell} kept changing while it was written; nothing was started. Try again."),
        };
    }

    private static async Task<IResult> ListAsync(string cell, RolloutService rollouts, CancellationToken cancellationToken) =>
        await CellProblemAsync(cell, rollouts, cancellationToken) ?? TypedResults.Ok(await rollouts.ListAsync(cell, cancellationToken));

    private static async Task<IResult> GetAsync(string cell, string feature, RolloutService rollouts, CancellationToken cancellationToken)
    {
        if (await CellProblemAsync(cell, rollouts, cancellationToken, feature) is { } problem)
        {
            return problem;
        }

        return await rollouts.GetAsync(cell, feature, cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : Problems.NotFound($"No rollout of {feature} in cell {cell}.");
    }

    private static async Task<IResult> HaltAsync(string cell, string feature, RolloutService rollouts, CancellationToken cancellationToken)
    {
        if (await CellProblemAsync(cell, rollouts, cancellationToken, feature) is { } problem)
        {
            return problem;
        }

        var (result, view) = await rollouts.HaltAsync(cell, feature, cancellationToken);
        return result switch
        {
            RolloutWriteResult.Done => TypedResults.Ok(view),
            RolloutWriteResult.NotFound => Problems.NotFound($"No rollout of {feature} in cell {cell}."),
            _ => Problems.Conflict($"The rollout of {feature} in cell {cell} kept changing while it was halted; it is not halted yet. Try again."),
        };
    }

    /// <summary>A 400 naming <c>cell</c> (or <c>feature</c>) when the name is invalid or the cell does not exist, else null.</summary>
    private static async Task<IResult?> CellProblemAsync(string cell, RolloutService rollouts, CancellationToken cancellationToken, string? feature = null)
    {
        if (Cells.Problem(cell) is { } problem)
        {
            return Problems.Field("cell", problem);
        }

        if (feature is not null && RolloutShares.FeatureProblem(feature) is { } featureProblem)
        {
            return Problems.Field("feature", featureProblem);
        }

        return await rollouts.CellExistsAsync(cell, cancellationToken)
            ? null
            : Problems.Field("cell", $"No cell '{cell}': a named cell exists once an agent with Agent:Cell={cell} has started (GET /v1/cells lists them).");
    }
}
