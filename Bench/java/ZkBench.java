// Baseline for the `zk` scenario: the official Java client (async API) doing the same work with the same window,
// so Bench/zk-compare.sh can print both clients' figures side by side against one server.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public final class ZkBench {
    /** Issues one asynchronous request for index i; calls done.run() from the callback with the result code. */
    interface AsyncOp { void start(int i, Runnable done, AtomicReference<String> error); }

    public static void main(String[] args) throws Exception {
        String servers = "127.0.0.1:2181";
        int ops = 100000, window = 1000, valueSize = 128, latencyOps = -1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--servers": servers = args[i + 1]; break;
                case "--ops": ops = Integer.parseInt(args[i + 1]); break;
                case "--window": window = Integer.parseInt(args[i + 1]); break;
                case "--value-size": valueSize = Integer.parseInt(args[i + 1]); break;
                case "--latency-ops": latencyOps = Integer.parseInt(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (latencyOps < 0) latencyOps = Math.min(ops, 5000);

        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(servers, 30000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(10, java.util.concurrent.TimeUnit.SECONDS)) throw new IllegalStateException("not connected");

        String root = "/bench-java-" + UUID.randomUUID().toString().substring(0, 8);
        zk.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        byte[] value = new byte[valueSize];
        new Random().nextBytes(value);
        String[] paths = new String[ops];
        for (int i = 0; i < ops; i++) paths[i] = String.format("%s/n-%08d", root, i);

        AsyncOp create = (i, done, err) -> zk.create(paths[i], value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                (rc, p, ctx, name) -> { check(rc, err); done.run(); }, null);
        AsyncOp get = (i, done, err) -> zk.getData(paths[i], false, (rc, p, ctx, data, stat) -> { check(rc, err); done.run(); }, null);
        AsyncOp set = (i, done, err) -> zk.setData(paths[i], value, -1, (rc, p, ctx, stat) -> { check(rc, err); done.run(); }, null);
        AsyncOp delete = (i, done, err) -> zk.delete(paths[i], -1, (rc, p, ctx) -> { check(rc, err); done.run(); }, null);

        // Warm-up on separate nodes, as the .NET scenario does.
        String[] warm = new String[Math.min(2000, ops)];
        for (int i = 0; i < warm.length; i++) warm[i] = paths[i] + "-w";
        runPipelined(warm.length, window, (i, done, err) -> zk.create(warm[i], value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                (rc, p, ctx, name) -> zk.delete(warm[i], -1, (rc2, p2, ctx2) -> done.run(), null), null));

        report("create", ops, window, runPipelined(ops, window, create));
        report("get", ops, window, runPipelined(ops, window, get));
        report("set", ops, window, runPipelined(ops, window, set));
        report("delete", ops, window, runPipelined(ops, window, delete));

        latency("create", latencyOps, create);
        latency("get", latencyOps, get);
        latency("set", latencyOps, set);
        latency("delete", latencyOps, delete);
        zk.delete(root, -1);
        zk.close();
    }

    private static void check(int rc, AtomicReference<String> error) {
        if (rc != KeeperException.Code.OK.intValue()) error.compareAndSet(null, KeeperException.Code.get(rc).toString());
    }

    /** Keeps `window` requests in flight with a semaphore; returns elapsed seconds. */
    private static double runPipelined(int ops, int window, AsyncOp op) throws Exception {
        Semaphore slots = new Semaphore(window);
        CountDownLatch all = new CountDownLatch(ops);
        AtomicReference<String> error = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < ops; i++) {
            slots.acquire();
            op.start(i, () -> { slots.release(); all.countDown(); }, error);
        }
        all.await();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (error.get() != null) throw new IllegalStateException("request failed: " + error.get());
        return seconds;
    }

    private static void report(String op, int ops, int window, double seconds) {
        System.out.printf("zk-java %s ops=%d window=%d seconds=%.3f ops_per_s=%.0f%n", op, ops, window, seconds, ops / seconds);
    }

    private static void latency(String op, int n, AsyncOp async) throws Exception {
        double[] samples = new double[n];
        AtomicReference<String> error = new AtomicReference<>();
        for (int i = 0; i < n; i++) {
            CountDownLatch one = new CountDownLatch(1);
            long start = System.nanoTime();
            async.start(i, one::countDown, error);
            one.await();
            samples[i] = (System.nanoTime() - start) / 1e3;
        }
        Arrays.sort(samples);
        System.out.printf("zk-java latency %s n=%d p50_us=%.0f p99_us=%.0f%n", op, n, pct(samples, 0.50), pct(samples, 0.99));
    }

    private static double pct(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
