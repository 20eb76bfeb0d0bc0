namespace ControlPlane.Director.Hosting;

/// <summary>The <c>Director:*</c> section (placeholder until the API branch lands).</summary>
public sealed class DirectorOptions
{
    /// <summary>Director id.</summary>
    public string Id { get; set; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Advertised URL.</summary>
    public string? Url { get; set; }
}
