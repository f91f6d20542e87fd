package io.mezzo.testkit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.common.X509Exception;

/**
 * A real ZooKeeper ensemble in this JVM (Curator's TestingCluster), every server bound to
 * 127.0.0.1 on free ports with a 500 ms tick, so sessions of 1-10 s are allowed. Closing it stops
 * every server and deletes their data.
 *
 * <p>{@link #kill} and {@link #restart} take single servers down and up (quorum loss with two of
 * three); {@link #serverHolding} finds the server a client's session is connected to (to kill the
 * leading master's server); expire a client's session with Curator's {@code KillSession}.
 */
public final class ZkEnsemble implements AutoCloseable {

    private final TestingCluster cluster;
    private final List<InstanceSpec> specs = new ArrayList<>();

    /** Starts {@code size} servers. */
    public ZkEnsemble(int size) throws Exception {
        for (int i = 1; i <= size; i++) {
            specs.add(new InstanceSpec(null, InstanceSpec.getRandomPort(), InstanceSpec.getRandomPort(),
                    InstanceSpec.getRandomPort(), true, i, 500, 100,
                    // "cons" lists each server's client connections with their session ids.
                    Map.of("clientPortAddress", "127.0.0.1", "4lw.commands.whitelist", "cons,srvr,ruok"),
                    "127.0.0.1"));
        }
        cluster = new TestingCluster(specs);
        cluster.start();
    }

    /** "127.0.0.1:p1,127.0.0.1:p2,..." */
    public String connectString() {
        return cluster.getConnectString();
    }

    /** A zk:// URL for this ensemble under {@code path}, e.g. {@code zk://127.0.0.1:p1,.../mezzo}. */
    public String url(String path) {
        return "zk://" + connectString() + path;
    }

    /**
     * "127.0.0.1:p" of server {@code index} (0-based) alone: a client given it can reach no other
     * server, so stopping that server cuts the client off while the others keep quorum.
     */
    public String connectString(int index) {
        return "127.0.0.1:" + specs.get(index).getPort();
    }

    /** A zk:// URL naming server {@code index} alone, under {@code path}. */
    public String url(int index, String path) {
        return "zk://" + connectString(index) + path;
    }

    /**
     * The index of the running server a client session is connected to, found by asking each server
     * for its connections ({@code cons}); -1 if none holds it (stopped servers are skipped). Give it
     * the {@code ephemeralOwner} of a znode to find the server of the client that created it.
     */
    public int serverHolding(long sessionId) {
        String sid = "sid=0x" + Long.toHexString(sessionId);
        for (int i = 0; i < specs.size(); i++) {
            String connections;
            try {
                connections = FourLetterWordMain.send4LetterWord("127.0.0.1", specs.get(i).getPort(), "cons", false,
                        (int) Timeouts.WAIT.toMillis());
            } catch (IOException | X509Exception.SSLContextException e) {
                continue;
            }
            if (connections.contains(sid + ",") || connections.contains(sid + ")")) {
                return i;
            }
        }
        return -1;
    }

    /** Stops server {@code index} (0-based). */
    public void kill(int index) throws Exception {
        cluster.killServer(specs.get(index));
    }

    /** Restarts server {@code index} (0-based). */
    public void restart(int index) throws Exception {
        cluster.restartServer(specs.get(index));
    }

    /** The underlying cluster. */
    public TestingCluster cluster() {
        return cluster;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
