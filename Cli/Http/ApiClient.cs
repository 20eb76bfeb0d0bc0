using System.Globalization;
using System.Net.Http.Headers;
using System.Reflection;

namespace ControlPlane.Cli.Http;

/// <summary>
/// HttpClient bound to one or more directors: their base URLs, the bearer token, and error answers turned into
/// <see cref="ApiException"/>. A request goes to the directors in turn until one answers (ApiClient.Failover.cs);
/// when none does, <see cref="DirectorsUnreachableException"/>. <see cref="CliRunner"/> maps both to exit codes.
/// The typed calls are in ApiClient.Jobs.cs and ApiClient.Cluster.cs.
/// </summary>
internal sealed partial class ApiClient : IDisposable
{
    /// <summary>How long one director has to answer one request before the next is tried (or the command fails).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private static readonly string UserAgent =
        $"cpctl/{typeof(ApiClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}";

    private readonly HttpClient http;
    private readonly Uri[] directors;
    private readonly TextWriter? verbose;

    /// <summary>Creates a client; it owns and disposes <paramref name="handler"/>.</summary>
    /// <param name="directors">Director URLs in the order to try them, e.g. <c>http://127.0.0.1:5080</c>; a path prefix is kept.</param>
    /// <param name="token">Bearer token, or null to send none.</param>
    /// <param name="handler">The HTTP stack (a fake one in tests).</param>
    /// <param name="verbose">Where to say which director answered each request and which failed, or null to stay quiet.</param>
    public ApiClient(IReadOnlyList<Uri> directors, string? token, HttpMessageHandler handler, TextWriter? verbose = null)
    {
        ArgumentNullException.ThrowIfNull(directors);
        if (directors.Count == 0)
        {
            throw new ArgumentException("At least one director URL is needed.", nameof(directors));
        }

        // Relative paths resolve under a base only when it ends with '/': keep a reverse proxy's prefix.
        this.directors = [.. directors.Select(d => d.AbsoluteUri.EndsWith('/') ? d : new Uri(d.AbsoluteUri + "/"))];
        this.verbose = verbose;
        http = new HttpClient(handler, disposeHandler: true) { Timeout = RequestTimeout };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <inheritdoc />
    public void Dispose() => http.Dispose();

    /// <summary>Sends <paramref name="request"/> to one director and returns its successful answer.</summary>
    /// <exception cref="ApiException">The director answered with a status outside 2xx.</exception>
    /// <exception cref="HttpRequestException">No answer (connection refused, reset, DNS).</exception>
    /// <exception cref="TaskCanceledException">No answer within <see cref="RequestTimeout"/>.</exception>
    private async Task<ApiResponse> SendOnceAsync(ApiRequest request, Uri director, CancellationToken cancellationToken)
    {
        using var message = request.ToMessage(director);
        using var response = await http.SendAsync(message, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var fallback = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            throw new ApiException(response.StatusCode, fallback, ApiProblem.TryParse(body), RetryAfterOf(response));
        }

        long? revision = response.Headers.TryGetValues("X-Revision", out var values) &&
            long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : null;
        return new ApiResponse(response.StatusCode, body, response.Headers.Location, revision);
    }

    /// <summary><c>Retry-After</c> as a delay: seconds, or an HTTP date measured against the answer's own <c>Date</c>
    /// (so the two clocks need not agree); null when absent.</summary>
    private static TimeSpan? RetryAfterOf(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - (response.Headers.Date ?? DateTimeOffset.UtcNow),
        _ => null,
    };

    // Ids and names go into paths escaped, so a stray '/' or '?' cannot address another resource.
    private static string Segment(string value) => Uri.EscapeDataString(value);
}
