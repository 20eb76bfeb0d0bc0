namespace ControlPlane.Agents.Diagnostics;

/// <summary>What the agent's <c>/healthz</c> answers.</summary>
/// <param name="Healthy">True while the worker is registered on a connected session that is provably alive for more
/// than the fencing margin: the agent may start work (200); otherwise 503.</param>
/// <param name="Reason"><c>ok</c>, or why not.</param>
/// <param name="WorkerId">The worker id, once the agent has reached the store.</param>
/// <param name="Session">The store session's state, once the agent has reached the store.</param>
/// <param name="Registered">Whether the registration exists on the current session.</param>
/// <param name="Draining">Whether the agent drains (it starts nothing new, but stays healthy while registered).</param>
/// <param name="ActiveAttempts">Attempts in progress here.</param>
internal readonly record struct AgentHealth(
    bool Healthy, string Reason, string? WorkerId, string? Session, bool Registered, bool Draining, int ActiveAttempts)
{
    /// <summary>Before the agent has reached the store (or after it failed to).</summary>
    public static AgentHealth NotConnected { get; } =
        new(false, "the agent has not reached the store yet", null, null, false, false, 0);
}
