// The director process: the REST API (any director serves it) and, added by the runtime, election and scheduling.
using ControlPlane.Contracts;
using ControlPlane.Coordination.Hosting;
using ControlPlane.Director.Hosting;

// appsettings.json is read from the install directory, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddDirectorApi(builder.Configuration);
builder.Services.AddDirectorRuntime(builder.Configuration);
// Traces (a job's submission and placements, the API's requests) go to an OTLP collector when one is configured.
builder.Services.AddControlPlaneTracing(
    builder.Configuration, "controlplane-director", builder.Configuration["Director:Id"], Tracing.DirectorSource, "Microsoft.AspNetCore");

var app = builder.Build();
app.MapDirectorApi();
app.Run();

/// <summary>Entry point, public so integration tests can host the app with <c>WebApplicationFactory</c>.</summary>
public partial class Program;
