using ControlPlane.Contracts;
using ControlPlane.Contracts.Schedules;

namespace ControlPlane.Cli.Http;

/// <summary>The <c>/v1/schedules</c> calls.</summary>
internal sealed partial class ApiClient
{
    /// <summary><c>POST /v1/schedules</c>: 201 for a new schedule, 200 when <paramref name="idempotencyKey"/> replays one.
    /// Only a keyed creation is sent to another director after one that may have received it failed.</summary>
    public Task<ApiResponse> CreateScheduleAsync(ScheduleSpec spec, string? idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync(Create("v1/schedules", ContractJson.Serialize(spec), idempotencyKey), cancellationToken);

    /// <summary><c>GET /v1/schedules</c>: one page.</summary>
    public Task<ApiResponse> ListSchedulesAsync(string? cursor, CancellationToken cancellationToken) =>
        SendAsync(Read("v1/schedules?limit=500" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))), cancellationToken);

    /// <summary><c>GET /v1/schedules/{id}</c>.</summary>
    public Task<ApiResponse> GetScheduleAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(Read($"v1/schedules/{Segment(id)}"), cancellationToken);

    /// <summary><c>POST /v1/schedules/{id}/pause|resume</c>: repeatable (a second one changes nothing).</summary>
    public Task<ApiResponse> ScheduleActionAsync(string id, string action, CancellationToken cancellationToken) =>
        SendAsync(new ApiRequest(HttpMethod.Post, $"v1/schedules/{Segment(id)}/{action}") { Repeatable = action != "trigger" }, cancellationToken);

    /// <summary><c>DELETE /v1/schedules/{id}</c>: repeatable (a second one answers 404).</summary>
    public Task<ApiResponse> DeleteScheduleAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(new ApiRequest(HttpMethod.Delete, $"v1/schedules/{Segment(id)}") { Repeatable = true }, cancellationToken);
}
