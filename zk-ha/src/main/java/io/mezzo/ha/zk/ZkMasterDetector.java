package io.mezzo.ha.zk;

import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.MasterInfo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the leader's znode: every change of the published MasterInfo (or its disappearance) is
 * told to the listeners. Agents, schedulers, the CLI and standby masters use it.
 *
 * <p>Thread-safe. Listeners run on Curator's event thread and must only hand the news over.
 */
public final class ZkMasterDetector implements MasterDetector {

    private static final Logger LOG = LoggerFactory.getLogger(ZkMasterDetector.class);

    private final CuratorFramework client;
    private final boolean ownsClient;
    private final CuratorCache cache;
    private final List<Consumer<Optional<MasterInfo>>> listeners = new CopyOnWriteArrayList<>();
    private final String description;
    private volatile Optional<MasterInfo> leader = Optional.empty();

    /** A detector on its own client for {@code url}; closing it closes the client. */
    public static ZkMasterDetector start(ZkUrl url, java.time.Duration sessionTimeout) {
        return new ZkMasterDetector(ZkClients.start(url, sessionTimeout), true, url.toString());
    }

    /** A detector on a shared client (not closed with the detector). */
    public static ZkMasterDetector onClient(CuratorFramework client, String description) {
        return new ZkMasterDetector(client, false, description);
    }

    private ZkMasterDetector(CuratorFramework client, boolean ownsClient, String description) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.description = description;
        this.cache = CuratorCache.build(client, ZkPaths.LEADER, CuratorCache.Options.SINGLE_NODE_CACHE);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, after) -> changed(after))
                .forDeletes(before -> changed(null))
                .build());
        cache.start();
    }

    private void changed(ChildData data) {
        Optional<MasterInfo> next = Optional.empty();
        if (data != null && data.getData() != null) {
            try {
                next = Optional.of(MasterInfoJson.decode(data.getData()));
            } catch (IllegalArgumentException e) {
                LOG.warn("Ignored the leader znode in {}: {}", description, e.getMessage());
            }
        }
        leader = next;
        LOG.debug("Leader in {} is now {}", description, next.map(m -> m.getIp() + ":" + m.getPort()).orElse("none"));
        for (Consumer<Optional<MasterInfo>> l : listeners) {
            l.accept(next);
        }
    }

    @Override
    public Optional<MasterInfo> leader() {
        return leader;
    }

    @Override
    public void addListener(Consumer<Optional<MasterInfo>> listener) {
        listeners.add(listener);
        listener.accept(leader);
    }

    @Override
    public void close() {
        cache.close();
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "ZkMasterDetector[" + description + "]";
    }
}
