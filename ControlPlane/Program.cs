// The director process: the REST API (any director serves it) and, added by the runtime, election and scheduling.
using ControlPlane.Director.Hosting;

// appsettings.json is read from the install directory, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddDirectorApi(builder.Configuration);
builder.Services.AddDirectorRuntime(builder.Configuration);

var app = builder.Build();
app.MapDirectorApi();
app.Run();

/// <summary>Entry point, public so integration tests can host the app with <c>WebApplicationFactory</c>.</summary>
public partial class Program;
