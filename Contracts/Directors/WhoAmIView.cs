namespace ControlPlane.Contracts.Directors;

/// <summary><c>GET /v1/whoami</c>: what the token of the request may do, so a client (the dashboard) can leave out
/// what it could not do anyway.</summary>
/// <param name="Role"><c>full</c> (every endpoint) or <c>read-only</c> (GET only; writes answer 403).</param>
/// <param name="AuthEnabled">False when the director has no token configured: the API is open and every caller is
/// <c>full</c>.</param>
public sealed record WhoAmIView(string Role, bool AuthEnabled)
{
    /// <summary>The role of a token that may call every endpoint.</summary>
    public const string Full = "full";

    /// <summary>The role of a token that may only read.</summary>
    public const string ReadOnly = "read-only";
}
