// The `Bench etcd` workload with the npm etcd3 client (grpc-js), for a side-by-side comparison.
// Usage: node etcd-bench.js --endpoints HOST:PORT [--ops N] [--concurrency C] [--latency-ops L]
// Prints the same line format as the .NET scenario, tagged "etcd3-node".
'use strict';
const { Etcd3 } = require('etcd3');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const endpoints = option('--endpoints', '127.0.0.1:2379').split(',').map((e) => 'http://' + e);
const ops = parseInt(option('--ops', '20000'), 10);
const concurrency = parseInt(option('--concurrency', '64'), 10);
const latencyOps = parseInt(option('--latency-ops', '2000'), 10);

async function throughput(run) {
  let next = -1;
  const start = process.hrtime.bigint();
  // A fixed window of in-flight operations, like the .NET worker loop.
  const worker = async () => {
    for (let i = ++next; i < ops; i = ++next) {
      await run(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function main() {
  const client = new Etcd3({ hosts: endpoints });
  const prefix = 'bench-node/' + Math.random().toString(16).slice(2, 10) + '/';
  const value = Buffer.alloc(128);
  const key = (i) => prefix + String(i).padStart(8, '0');

  for (let i = 0; i < 200; i++) {
    await client.put(prefix + 'warm').value(value);
    await client.get(prefix + 'warm').buffer();
  }

  const operations = [
    ['put', (i) => client.put(key(i)).value(value)],
    ['get', (i) => client.get(key(i)).buffer()],
    ['txn', (i) => client.if(key(i), 'Mod', '>', 0)
      .then(client.put(key(i)).value(value))
      .else(client.get(key(i)))
      .commit()],
    ['delete', (i) => client.delete().key(key(i))],
  ];

  const cpuBefore = process.cpuUsage();
  for (const [name, run] of operations) {
    const seconds = await throughput(run);
    console.log(`etcd3-node ${name} ops=${ops} window=${concurrency} seconds=${seconds.toFixed(3)} ops_per_s=${Math.round(ops / seconds)}`);
  }

  // The process's CPU over the four throughput phases only (no start-up, warm-up or latency runs).
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMicros = cpu.user + cpu.system;
  const total = operations.length * ops;
  console.log(`etcd3-node cpu throughput ops=${total} cpu_seconds=${(cpuMicros / 1e6).toFixed(3)} us_per_op=${(cpuMicros / total).toFixed(1)}`);

  for (const [name, run] of operations) {
    const samples = [];
    for (let i = 0; i < latencyOps; i++) {
      const start = process.hrtime.bigint();
      await run(i);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    console.log(`etcd3-node ${name} sequential ops=${latencyOps} p50_ms=${percentile(samples, 0.5).toFixed(3)} p99_ms=${percentile(samples, 0.99).toFixed(3)}`);
  }

  await client.delete().prefix(prefix);
  client.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
