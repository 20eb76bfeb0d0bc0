using System.Globalization;
using System.Net.Http.Headers;
using System.Reflection;

namespace ControlPlane.Cli.Http;

/// <summary>
/// HttpClient bound to one director: base URL, bearer token, and error answers turned into
/// <see cref="ApiException"/>. Transport failures surface as <see cref="HttpRequestException"/> (or a
/// <see cref="TaskCanceledException"/> on timeout); <see cref="CliRunner"/> maps them to exit codes.
/// The typed calls are in ApiClient.Jobs.cs and ApiClient.Cluster.cs.
/// </summary>
internal sealed partial class ApiClient : IDisposable
{
    private static readonly string UserAgent =
        $"cpctl/{typeof(ApiClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}";

    private readonly HttpClient http;

    /// <summary>Creates a client; it owns and disposes <paramref name="handler"/>.</summary>
    /// <param name="baseUrl">Director URL, e.g. <c>http://127.0.0.1:5080</c>; a path prefix is kept.</param>
    /// <param name="token">Bearer token, or null to send none.</param>
    /// <param name="handler">The HTTP stack (a fake one in tests).</param>
    public ApiClient(Uri baseUrl, string? token, HttpMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        // Relative paths resolve under the base only when it ends with '/': keep a reverse proxy's prefix.
        var text = baseUrl.AbsoluteUri;
        http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = new Uri(text.EndsWith('/') ? text : text + "/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>Sends one request and returns the successful answer.</summary>
    /// <exception cref="ApiException">The API answered with a status outside 2xx.</exception>
    /// <exception cref="HttpRequestException">No answer (connection refused, reset, DNS).</exception>
    public async Task<ApiResponse> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var response = await http.SendAsync(request, cancellationToken);
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

    /// <inheritdoc />
    public void Dispose() => http.Dispose();

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
