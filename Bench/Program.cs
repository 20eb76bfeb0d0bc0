// Benchmark entry point: `dotnet run -c Release --project Bench -- <scenario> [options]`.
// Scenarios are added by the issues that build what they measure (zk, etcd, e2e, ...).
using ControlPlane.Bench;

return await BenchMain.RunAsync(args).ConfigureAwait(false);
