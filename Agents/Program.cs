// The agent process. Issue "Agent" adds registration, the assignment watch and the executors; at
// this stage the host only starts and stops cleanly.
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
using var host = builder.Build();
await host.RunAsync().ConfigureAwait(false);
