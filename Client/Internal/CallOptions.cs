namespace ControlPlane.Client.Internal;

/// <summary>What the handlers below <see cref="ControlPlaneClient"/> need to know about a call, carried in
/// <see cref="HttpRequestMessage.Options"/> (the resilience handler copies them into every retry's message).</summary>
internal static class CallOptions
{
    /// <summary>Path and query relative to a director's base URL, e.g. <c>v1/jobs?state=Running</c>: the failover
    /// handler points the request at each director in turn.</summary>
    public static readonly HttpRequestOptionsKey<string> Path = new("ControlPlane.Path");

    /// <summary>True when a director acting on the call twice does no harm, so it may be sent again after a director
    /// may have received it (see <see cref="ControlPlaneClient"/>'s remarks).</summary>
    public static readonly HttpRequestOptionsKey<bool> Repeatable = new("ControlPlane.Repeatable");

    /// <summary>The director that answered, set on the response's request by the failover handler.</summary>
    public static readonly HttpRequestOptionsKey<Uri> Director = new("ControlPlane.Director");

    public static bool IsRepeatable(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Repeatable, out var repeatable) && repeatable;
}
