using ControlPlane.Director.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddDirectorRuntime(builder.Configuration);
var app = builder.Build();

app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }));

app.Run();

/// <summary>Entry point, public so integration tests can host the app with <c>WebApplicationFactory</c>.</summary>
public partial class Program;
