package io.mezzo.ha.zk;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single ZooKeeper server in this JVM, for {@code mezzo dev}: the dev cluster then elects its
 * master and keeps its registry exactly as a production cluster does. Not for production (one
 * server is no quorum).
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);

    private final ZooKeeperServer server;
    private final ServerCnxnFactory factory;

    private EmbeddedZooKeeper(ZooKeeperServer server, ServerCnxnFactory factory) {
        this.server = server;
        this.factory = factory;
    }

    /**
     * Starts a server on {@code ip:port} (0 picks a free port) with its data in {@code dataDir},
     * a 500 ms tick so sessions of 1-10 s are allowed.
     *
     * @throws IOException if it cannot bind or write its data
     */
    public static EmbeddedZooKeeper start(String ip, int port, Path dataDir) throws IOException {
        File dir = dataDir.toFile();
        ZooKeeperServer server = new ZooKeeperServer(new File(dir, "snapshots"), new File(dir, "log"), 500);
        ServerCnxnFactory factory = ServerCnxnFactory.createFactory(new InetSocketAddress(ip, port), 200);
        try {
            factory.startup(server);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            factory.shutdown();
            throw new IOException("interrupted while starting ZooKeeper", e);
        }
        EmbeddedZooKeeper zk = new EmbeddedZooKeeper(server, factory);
        LOG.info("Embedded ZooKeeper serving on {}:{} with data in {}", ip, zk.port(), dataDir);
        return zk;
    }

    /** The bound client port. */
    public int port() {
        return factory.getLocalPort();
    }

    /** "127.0.0.1:port". */
    public String connectString() {
        return factory.getLocalAddress().getAddress().getHostAddress() + ":" + port();
    }

    @Override
    public void close() {
        factory.shutdown();
        server.shutdown();
    }
}
