package io.mezzo.ha.registry;

import io.mezzo.ha.zk.ZkPaths;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry in ZooKeeper: one znode per record at {@code /registry/<collection>/<key>} (keys
 * URL-encoded), so no znode comes near ZooKeeper's 1 MB limit however large the cluster.
 *
 * <p>Fencing: every transaction starts with a check that the epoch znode still has the version
 * this leader set when it was elected. Once another master bumps the epoch, every write of this one
 * fails with {@link FencedException}, whatever this master believes about its leadership.
 *
 * <p>Batching: writes queue; one writer thread takes everything queued and commits it in as few
 * multi-op transactions as the size limits allow, in submission order (as Mesos' registrar does).
 *
 * <p>Thread-safe. Owned by the leading master; its writer thread is "mezzo-registry".
 */
public final class ZkRegistry implements Registry {

    private static final Logger LOG = LoggerFactory.getLogger(ZkRegistry.class);

    /** Most operations in one transaction (each transaction also carries the epoch check). */
    static final int MAX_OPS_PER_TRANSACTION = 500;
    /** Most bytes of record data in one transaction, well below ZooKeeper's 1 MB request limit. */
    static final int MAX_BYTES_PER_TRANSACTION = 512 * 1024;
    /** Largest record accepted. */
    static final int MAX_RECORD_BYTES = RegistryOp.MAX_VALUE_BYTES;

    private final CuratorFramework client;
    private final int epochVersion;
    private final ExecutorService writer;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    /** Paths known to exist, so a put is a create or a setData. Writer thread only after readAll. */
    private final Set<String> existing = new HashSet<>();
    private final AtomicReference<RegistryException> failed = new AtomicReference<>();

    private record Pending(List<RegistryOp> ops, CompletableFuture<Void> done) {}

    /**
     * A registry whose writes are fenced by the epoch znode having version {@code epochVersion}
     * (the version this master's election set).
     */
    public ZkRegistry(CuratorFramework client, int epochVersion) {
        this.client = client;
        this.epochVersion = epochVersion;
        this.writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mezzo-registry");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public Map<String, Map<String, byte[]>> readAll() {
        Map<String, Map<String, byte[]>> out = new HashMap<>();
        try {
            if (client.checkExists().forPath(ZkPaths.REGISTRY) == null) {
                return out;
            }
            List<String> collections = client.getChildren().forPath(ZkPaths.REGISTRY);
            for (String collection : collections) {
                String dir = ZkPaths.REGISTRY + "/" + collection;
                List<String> children = client.getChildren().forPath(dir);
                Map<String, byte[]> records = new HashMap<>();
                // Pipelined reads: tens of thousands of records must not cost a round trip each.
                CountDownLatch done = new CountDownLatch(children.size());
                AtomicReference<String> error = new AtomicReference<>();
                for (String child : children) {
                    client.getData().inBackground((c, event) -> {
                        if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                            synchronized (records) {
                                records.put(decode(child), event.getData());
                            }
                        } else if (event.getResultCode() != KeeperException.Code.NONODE.intValue()) {
                            error.set(dir + "/" + child + ": " + KeeperException.Code.get(event.getResultCode()));
                        }
                        done.countDown();
                    }).forPath(dir + "/" + child);
                }
                if (!done.await(60, TimeUnit.SECONDS)) {
                    throw new RegistryException("reading " + dir + " took longer than 60 s");
                }
                if (error.get() != null) {
                    throw new RegistryException("cannot read registry record " + error.get());
                }
                synchronized (records) {
                    out.put(collection, records);
                    for (String child : children) {
                        existing.add(dir + "/" + child);
                    }
                }
                existing.add(dir);
            }
            existing.add(ZkPaths.REGISTRY);
            return out;
        } catch (RegistryException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while reading the registry", e);
        } catch (Exception e) {
            throw new RegistryException("cannot read the registry: " + e.getMessage(), e);
        }
    }

    @Override
    public CompletableFuture<Void> write(List<RegistryOp> ops) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (ops.isEmpty()) {
            done.complete(null);
            return done;
        }
        // A record that can never be written fails its write alone, before it is queued: it must
        // not fail a batch (and with it this registry) that holds other masters' changes.
        RecordRejectedException rejected = RecordRejectedException.check(ops);
        if (rejected != null) {
            done.completeExceptionally(rejected);
            return done;
        }
        RegistryException already = failed.get();
        if (already != null) {
            done.completeExceptionally(already);
            return done;
        }
        queue.add(new Pending(List.copyOf(ops), done));
        try {
            writer.execute(this::drain);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.completeExceptionally(new RegistryException("registry closed"));
        }
        return done;
    }

    /** Writer thread: commits everything queued, in order, in as few transactions as fit. */
    private void drain() {
        List<Pending> batch = new ArrayList<>();
        queue.drainTo(batch);
        if (batch.isEmpty()) {
            return;
        }
        RegistryException error = failed.get();
        if (error == null) {
            try {
                commit(batch);
            } catch (RegistryException e) {
                error = e;
                failed.compareAndSet(null, e);
            }
        }
        for (Pending p : batch) {
            if (error == null) {
                p.done.complete(null);
            } else {
                p.done.completeExceptionally(error);
            }
        }
    }

    private void commit(List<Pending> batch) {
        List<RegistryOp> all = new ArrayList<>();
        batch.forEach(p -> all.addAll(p.ops));
        List<CuratorOp> txn = new ArrayList<>();
        Set<String> created = new HashSet<>();
        Set<String> deleted = new HashSet<>();
        int bytes = 0;
        try {
            txn.add(check());
            for (RegistryOp op : all) {
                String dir = ZkPaths.REGISTRY + "/" + op.collection();
                String path = dir + "/" + encode(op.key());
                int size = op.isDelete() ? 0 : op.value().length;
                if (txn.size() + 3 > MAX_OPS_PER_TRANSACTION || bytes + size > MAX_BYTES_PER_TRANSACTION) {
                    run(txn, created, deleted);
                    txn.clear();
                    txn.add(check());
                    bytes = 0;
                }
                bytes += size;
                if (op.isDelete()) {
                    if (exists(path, created, deleted)) {
                        txn.add(client.transactionOp().delete().forPath(path));
                        deleted.add(path);
                        created.remove(path);
                    }
                    continue;
                }
                for (String parent : new String[] {ZkPaths.REGISTRY, dir}) {
                    if (!exists(parent, created, deleted)) {
                        txn.add(client.transactionOp().create().forPath(parent, new byte[0]));
                        created.add(parent);
                    }
                }
                if (exists(path, created, deleted)) {
                    txn.add(client.transactionOp().setData().forPath(path, op.value()));
                } else {
                    txn.add(client.transactionOp().create().forPath(path, op.value()));
                    created.add(path);
                    deleted.remove(path);
                }
            }
            if (txn.size() > 1) {
                run(txn, created, deleted);
            }
        } catch (RegistryException e) {
            throw e;
        } catch (Exception e) {
            throw new RegistryException("registry write failed: " + e.getMessage(), e);
        }
        LOG.debug("Committed {} registry operations from {} writes", all.size(), batch.size());
    }

    private boolean exists(String path, Set<String> created, Set<String> deleted) {
        return !deleted.contains(path) && (created.contains(path) || existing.contains(path));
    }

    private CuratorOp check() throws Exception {
        return client.transactionOp().check().withVersion(epochVersion).forPath(ZkPaths.EPOCH);
    }

    private void run(List<CuratorOp> txn, Set<String> created, Set<String> deleted) throws Exception {
        try {
            client.transaction().forOperations(txn);
        } catch (KeeperException e) {
            List<OpResult> results = e.getResults();
            boolean checkFailed = results != null && !results.isEmpty()
                    && results.get(0) instanceof OpResult.ErrorResult r
                    && r.getErr() == KeeperException.Code.BADVERSION.intValue();
            if (checkFailed || e.code() == KeeperException.Code.BADVERSION && results == null) {
                Stat stat = client.checkExists().forPath(ZkPaths.EPOCH);
                throw new FencedException("registry write refused: the epoch moved on (version "
                        + (stat == null ? "gone" : stat.getVersion()) + ", this leader holds " + epochVersion
                        + "); another master leads");
            }
            throw new RegistryException("registry transaction failed: " + e.getMessage(), e);
        }
        existing.addAll(created);
        existing.removeAll(deleted);
        created.clear();
        deleted.clear();
    }

    @Override
    public void close() {
        failed.compareAndSet(null, new RegistryException("registry closed"));
        writer.shutdown();
        try {
            if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
                writer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Pending> left = new ArrayList<>();
        queue.drainTo(left);
        left.forEach(p -> p.done.completeExceptionally(new RegistryException("registry closed")));
    }

    static String encode(String key) {
        return URLEncoder.encode(key, StandardCharsets.UTF_8);
    }

    static String decode(String name) {
        return URLDecoder.decode(name, StandardCharsets.UTF_8);
    }
}
