using ControlPlane.Contracts;

namespace ControlPlane.Agents.Executors;

/// <summary>Which executors this agent advertises, and which one starts an assignment of a given executor name.</summary>
internal sealed class ExecutorRegistry(IExecutor shell, IExecutor handlers, IEnumerable<JobHandlerRegistration> registrations, bool shellEnabled)
{
    /// <summary><c>shell</c> when enabled, then the handler names, sorted.</summary>
    public IReadOnlyList<string> Advertised { get; } =
        [.. shellEnabled ? [Protocol.ShellExecutor] : Array.Empty<string>(),
         .. registrations.Select(r => r.Name).Where(n => n != Protocol.ShellExecutor).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>The executor for <paramref name="executor"/>: the shell executor (which refuses when disabled) or the
    /// handler executor (which refuses names without a handler).</summary>
    public IExecutor For(string executor) => executor == Protocol.ShellExecutor ? shell : handlers;
}
