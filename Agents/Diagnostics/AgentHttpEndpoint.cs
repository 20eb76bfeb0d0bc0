using System.Net;
using System.Text.Json;
using ControlPlane.Coordination.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ControlPlane.Agents.Diagnostics;

/// <summary>
/// The agent's optional HTTP port (<c>Agent:Http:*</c>): <c>GET /metrics</c> from the OpenTelemetry SDK's Prometheus
/// exporter over <see cref="HttpListener"/>, and <c>GET /healthz</c> from a second <see cref="HttpListener"/> on the
/// same port (the listeners share the socket and split requests by path prefix: <c>/metrics</c> goes to the
/// exporter, everything else to the second, which answers 404 for what is not <c>/healthz</c>; no request is left
/// for no listener, a case the runtime's listener answers but then mishandles the kept-alive connection's next
/// request). <see cref="HttpListener"/> rather than
/// Kestrel: it is part of the .NET runtime, so the agent needs no ASP.NET Core (its image is the plain runtime), and
/// idle it costs nothing: no timer, no thread, one socket waiting to accept.
/// </summary>
/// <remarks>
/// Running jobs costs the same with or without the port: the agent's counters are recorded a few times per attempt
/// whoever listens, and the series are computed only when <c>/metrics</c> is scraped. The meters are process-wide
/// (<c>ControlPlane.Agent</c> and the store clients'), so a process hosting several agents reports their sum.
/// </remarks>
internal sealed class AgentHttpEndpoint : IDisposable
{
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);
    private readonly MeterProvider _meters;
    private readonly HttpListener _health = new();
    private readonly Func<AgentHealth> _read;
    private readonly ILogger _logger;
    private readonly Task _serving;
    private volatile bool _stopping;

    private AgentHttpEndpoint(AgentHttpOptions options, int port, string? workerId, Func<AgentHealth> read, ILogger logger)
    {
        _read = read;
        _logger = logger;
        var prefix = Prefix(options.Address, port);
        try
        {
            _meters = Sdk.CreateMeterProviderBuilder()
                .ConfigureResource(resource => resource.AddService("controlplane-agent", serviceInstanceId: workerId))
                .AddMeter([AgentMetrics.MeterName, .. TelemetrySetup.StoreClientMeters])
                .AddPrometheusHttpListener(exporter =>
                {
                    exporter.Port = port;
                    exporter.ScrapeEndpointPath = "/metrics";
                    // Series keep the names and labels the directors' have: no otel_scope_* labels on each.
                    exporter.ScopeInfoEnabled = false;
                    // Every scrape reads current values (the SDK's default caches a response for 300 ms).
                    exporter.ScrapeResponseCacheDurationMilliseconds = 0;
                    // The exporter builds its prefix as a URI, which cannot hold the wildcard host "+".
                    exporter.ConfigureHttpListener = (_, listener) =>
                    {
                        listener.Prefixes.Clear();
                        listener.Prefixes.Add(prefix + "metrics/");
                    };
                })
                .Build();
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                $"Agent:Http:Port: cannot listen on {options.Address}:{port} ({e.InnerException?.Message ?? e.Message}).", e);
        }

        try
        {
            _health.Prefixes.Add(prefix);
            _health.Start();
        }
        catch (HttpListenerException e)
        {
            _meters.Dispose();
            throw new InvalidOperationException($"Agent:Http:Port: cannot listen on {options.Address}:{port} ({e.Message}).", e);
        }

        _serving = Task.Run(ServeAsync);
        AgentLog.HttpListening(logger, options.Address, port);
    }

    /// <summary>Starts listening on <paramref name="options"/>' port (which must be set).</summary>
    /// <param name="options">Validated settings.</param>
    /// <param name="workerId">The configured worker id, for the <c>service.instance.id</c> of <c>target_info</c>.</param>
    /// <param name="read">The agent's health now.</param>
    /// <param name="logger">Logger.</param>
    /// <exception cref="InvalidOperationException">The port cannot be bound (e.g. it is in use).</exception>
    public static AgentHttpEndpoint Start(AgentHttpOptions options, string? workerId, Func<AgentHealth> read, ILogger logger) =>
        new(options, options.Port ?? throw new ArgumentException("Agent:Http:Port is not set.", nameof(options)), workerId, read, logger);

    /// <summary>The listener prefix for <paramref name="address"/>: the wildcard host for every interface.</summary>
    internal static string Prefix(string address, int port)
    {
        var ip = IPAddress.Parse(address);
        var host = ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) ? "+"
            : ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]"
            : ip.ToString();
        return $"http://{host}:{port}/";
    }

    /// <summary>Closes both listeners; a scrape in progress is cut.</summary>
    public void Dispose()
    {
        _stopping = true;
        _health.Close();
        // The loop ends as soon as the closed listener fails its pending accept.
        _serving.Wait(StopWait);
        _meters.Dispose();
    }

    /// <summary>Answers <c>/healthz</c> (and 404 for other paths) until the listener is closed (bounded by the
    /// endpoint's lifetime).</summary>
    private async Task ServeAsync()
    {
        while (!_stopping)
        {
            HttpListenerContext context;
            try
            {
                context = await _health.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // Closed by Dispose: the only way an accept fails on a listening socket here.
                return;
            }

            Answer(context);
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var request = context.Request;
            if (request.Url?.AbsolutePath != "/healthz")
            {
                response.StatusCode = (int)HttpStatusCode.NotFound;
            }
            else if (request.HttpMethod is not ("GET" or "HEAD"))
            {
                response.StatusCode = (int)HttpStatusCode.MethodNotAllowed;
                response.AddHeader("Allow", "GET, HEAD");
            }
            else
            {
                var health = _read();
                var body = Body(health);
                response.StatusCode = health.Healthy ? (int)HttpStatusCode.OK : (int)HttpStatusCode.ServiceUnavailable;
                response.ContentType = "application/json; charset=utf-8";
                response.ContentLength64 = body.Length;
                if (request.HttpMethod == "GET")
                {
                    response.OutputStream.Write(body);
                }
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            AgentLog.HealthRequestFailed(_logger, e);
        }
        catch (Exception e)
        {
            // Whatever went wrong answers this request, not the next ones: the loop keeps serving.
            AgentLog.HealthRequestFailed(_logger, e);
            TrySetStatus(response, HttpStatusCode.InternalServerError);
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                AgentLog.HealthRequestFailed(_logger, e);
            }
        }
    }

    private static void TrySetStatus(HttpListenerResponse response, HttpStatusCode status)
    {
        try
        {
            response.StatusCode = (int)status;
        }
        catch (InvalidOperationException)
        {
            // Headers already sent: the status stands.
        }
    }

    /// <summary><c>{"status":"ok"|"unavailable","reason",…}</c>: what a person reading the answer needs.</summary>
    internal static byte[] Body(AgentHealth health)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", health.Healthy ? "ok" : "unavailable");
            json.WriteString("reason", health.Reason);
            if (health.WorkerId is not null)
            {
                json.WriteString("workerId", health.WorkerId);
            }

            if (health.Session is not null)
            {
                json.WriteString("session", health.Session);
            }

            json.WriteBoolean("registered", health.Registered);
            json.WriteBoolean("draining", health.Draining);
            json.WriteNumber("activeAttempts", health.ActiveAttempts);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
