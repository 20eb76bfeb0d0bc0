using System.Net;
using System.Text;
using ControlPlane.Contracts;

namespace ControlPlane.UnitTests.Cli;

/// <summary>One request as the fake director received it, body read eagerly (the client disposes the message).</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    /// <summary>Path and query, e.g. <c>/v1/jobs?state=Running</c>.</summary>
    public string PathAndQuery => Uri.PathAndQuery;
}

/// <summary>
/// A fake director behind an <see cref="HttpMessageHandler"/>: records every request and answers with what the
/// test's responder returns. Unit tests of cpctl fake the I/O this way; the real API has its own tests.
/// </summary>
internal sealed class FakeApi : HttpMessageHandler
{
    private readonly Func<RecordedRequest, HttpResponseMessage> respond;

    public FakeApi(Func<RecordedRequest, HttpResponseMessage> respond) => this.respond = respond;

    /// <summary>Every request so far, in order.</summary>
    public List<RecordedRequest> Requests { get; } = [];

    /// <summary>A JSON answer with a contract record as body.</summary>
    public static HttpResponseMessage Json<T>(T body, HttpStatusCode status = HttpStatusCode.OK) =>
        Raw(Encoding.UTF8.GetString(ContractJson.Serialize(body)), status, "application/json");

    /// <summary>An answer with exactly this body text.</summary>
    public static HttpResponseMessage Raw(string body, HttpStatusCode status, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };

    /// <summary>An RFC 7807 problem answer.</summary>
    public static HttpResponseMessage Problem(HttpStatusCode status, string title, string? detail = null, string? errorsJson = null)
    {
        var detailPart = detail is null ? "" : $",\"detail\":\"{detail}\"";
        var errorsPart = errorsJson is null ? "" : $",\"errors\":{errorsJson}";
        return Raw($"{{\"title\":\"{title}\",\"status\":{(int)status}{detailPart}{errorsPart}}}", status, "application/problem+json");
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        if (request.Content is { } content)
        {
            foreach (var h in content.Headers)
            {
                headers[h.Key] = string.Join(",", h.Value);
            }
        }

        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!, headers, body);
        lock (Requests)
        {
            Requests.Add(recorded);
        }

        return respond(recorded);
    }
}
