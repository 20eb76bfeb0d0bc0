namespace ControlPlane.Client.Internal;

/// <summary>
/// The directors in the order to try them, starting with the one that answered last, so a dead first director costs
/// one refused connection per call until another answers, and then none. Shared by every handler instance (the
/// HttpClient factory recycles handlers; the preference must outlive them).
/// </summary>
internal sealed class DirectorRotation
{
    private readonly Uri[] _directors;
    private int _preferred;

    public DirectorRotation(IEnumerable<Uri> directors)
    {
        // Relative paths resolve under a base only when it ends with '/': keep a reverse proxy's prefix.
        _directors = [.. directors.Select(d => d.AbsoluteUri.EndsWith('/') ? d : new Uri(d.AbsoluteUri + "/"))];
        if (_directors.Length == 0)
        {
            throw new ArgumentException("At least one director URL is needed.", nameof(directors));
        }
    }

    public int Count => _directors.Length;

    /// <summary>The directors from the preferred one on, each once.</summary>
    public IEnumerable<(int Index, Uri Director)> InTurn()
    {
        var first = Volatile.Read(ref _preferred);
        for (var i = 0; i < _directors.Length; i++)
        {
            var index = (first + i) % _directors.Length;
            yield return (index, _directors[index]);
        }
    }

    /// <summary>The preferred director: the one requests are addressed to before the failover handler retargets them.</summary>
    public Uri Preferred => _directors[Volatile.Read(ref _preferred)];

    /// <summary>Prefers the director at <paramref name="index"/>, which just answered.</summary>
    public void Answered(int index) => Volatile.Write(ref _preferred, index);
}
