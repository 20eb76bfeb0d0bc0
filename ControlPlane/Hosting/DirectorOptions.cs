using ControlPlane.Contracts.Jobs;

namespace ControlPlane.Director.Hosting;

/// <summary>The <c>Director:*</c> section: who this director is and where clients reach it.</summary>
public sealed class DirectorOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Director";

    /// <summary>Director id, unique among live directors: the key of its membership record and the name in
    /// <c>/v1/leader</c>. Letters, digits, '.', '_' and '-', at most 128 characters.
    /// <value><c>&lt;host&gt;-&lt;8 hex digits&gt;</c>, new on every start.</value></summary>
    public string? Id { get; set; }

    /// <summary>Base URL this director advertises to clients (in its membership and election records), e.g.
    /// <c>http://10.0.0.5:5080</c>. <value>The first address the server listens on.</value></summary>
    public string? Url { get; set; }

    /// <summary>Whether this director campaigns for leadership (and schedules when elected). A director with
    /// <c>false</c> only serves the API: useful to scale the API apart from scheduling, or to keep a director of a
    /// new version out of leadership during an upgrade. <value><c>true</c>.</value></summary>
    public bool Campaign { get; set; } = true;

    /// <summary>The version this director reports (its membership and candidate records, <c>/v1/cluster</c>) and that cell
    /// policies match (docs/cells.md, "Version-gated leadership"): 1 to 64 letters, digits, '.', '_', '+' or '-'. Set it
    /// to the release name your deployment pipeline gives a build when that is what operators pin.
    /// <value>The assembly's version, e.g. <c>1.0.0.0</c>.</value></summary>
    public string? Version { get; set; }

    /// <summary>How often a campaigning director re-reads the cell registry (<c>meta/cells</c>, one listing) to campaign
    /// in cells created since (docs/cells.md). 200 ms to 10 min. <value>5 s.</value></summary>
    public TimeSpan CellDiscoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often at most a director makes one move to spread leadership across cells (resigning a cell it leads
    /// above its share, or stepping back in a queue; docs/cells.md). 200 ms to 10 min. <value>10 s.</value></summary>
    public TimeSpan SpreadInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The default version: this build's assembly version.</summary>
    public static string BuildVersion() => typeof(DirectorOptions).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>The default id: the host name reduced to key-safe characters, then 8 random hex digits.</summary>
    public static string NewId()
    {
        var host = new string([.. Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-')]);
        host = host.Length switch
        {
            0 => "director",
            > 100 => host[..100],
            _ => host,
        };
        return $"{host}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Every problem with the settings, empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (Id is null || Id.Length is 0 or > 128 || !JobSpecValidator.IsName(Id))
        {
            yield return $"Director:Id must be 1 to 128 letters, digits, '.', '_' or '-'; got '{Id}'.";
        }

        if (Contracts.Directors.CellPolicies.VersionProblem(Version) is { } version)
        {
            yield return $"Director:Version: {version}";
        }

        foreach (var (name, value) in new[] { (nameof(CellDiscoveryInterval), CellDiscoveryInterval), (nameof(SpreadInterval), SpreadInterval) })
        {
            if (value < TimeSpan.FromMilliseconds(200) || value > TimeSpan.FromMinutes(10))
            {
                yield return $"Director:{name} must be between 200 ms and 10 min; got {value}.";
            }
        }

        if (Url is not null && (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return $"Director:Url must be an absolute http or https URL; got '{Url}'.";
        }
    }
}
