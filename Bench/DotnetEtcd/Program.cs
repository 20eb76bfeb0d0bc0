// The third etcd client of the comparison: dotnet-etcd (Grpc.Net.Client and generated stubs).
//   dotnet ControlPlane.DotnetEtcd.dll bench --endpoints HOST:PORT [--ops N] [--concurrency C] [--latency-ops L]
//   dotnet ControlPlane.DotnetEtcd.dll bench-grpc ...   (the same with the generated stubs on a plain GrpcChannel)
//   dotnet ControlPlane.DotnetEtcd.dll probes [--only lease-outage,watch-compaction,write-retry]
// `bench` runs the `Bench etcd` workload and prints the same lines tagged "dotnet-etcd" ("grpc-net" for
// `bench-grpc`, which measures Grpc.Net.Client without dotnet-etcd's wrapper); `probes` runs the
// resilience probes of Bench/Probes/EtcdProbes.cs (docs/etcd-client.md, "Why not dotnet-etcd").
using ControlPlane.Bench.DotnetEtcd;

return args.Length > 0 && args[0] == "bench" ? await DotnetEtcdBench.RunAsync(args[1..], plainChannel: false).ConfigureAwait(false)
    : args.Length > 0 && args[0] == "bench-grpc" ? await DotnetEtcdBench.RunAsync(args[1..], plainChannel: true).ConfigureAwait(false)
    : args.Length > 0 && args[0] == "probes" ? await DotnetEtcdProbeClient.RunProbesAsync(args[1..]).ConfigureAwait(false)
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: ControlPlane.DotnetEtcd bench|bench-grpc --endpoints HOST:PORT [--ops N] [--concurrency C] [--latency-ops L]\n"
        + "       ControlPlane.DotnetEtcd probes [--only NAME[,NAME]]");
    return 2;
}
