// The agent process: configuration from appsettings, environment and the command line
// (e.g. --Store:Backend=etcd --Store:Endpoints=127.0.0.1:2379), everything else in AddControlPlaneAgent.
using ControlPlane.Agents;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddControlPlaneAgent(builder.Configuration);
using var host = builder.Build();
await host.RunAsync().ConfigureAwait(false);
