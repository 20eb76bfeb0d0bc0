// The director process. Issue "Director" fills in the job API and the scheduler; at this stage the
// process only proves that the host, configuration and health endpoint are wired.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));

app.Run();

/// <summary>Entry point, public so integration tests can host the app with <c>WebApplicationFactory</c>.</summary>
public partial class Program;
