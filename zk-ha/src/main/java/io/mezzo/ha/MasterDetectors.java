package io.mezzo.ha;

import io.mezzo.common.security.TlsSettings;
import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkLeaderReader;
import io.mezzo.ha.zk.ZkUrl;
import java.util.function.Predicate;

/**
 * Builds a {@link MasterDetector} from the {@code --master} flag.
 *
 * <p>Stateless; any thread.
 *
 * <p><b>Curator is optional here.</b> {@link MasterDetector}, {@link StandaloneMasterDetector} and
 * this class use no Curator or ZooKeeper class, and the scheduler library ({@code
 * mezzo-scheduler-api}) ships without them: only a {@code zk://} address reaches the {@code
 * io.mezzo.ha.zk} classes (the light {@code ZkLeaderReader}, which needs ZooKeeper's client but not
 * Curator's framework), and it first checks that ZooKeeper is on the class path, so that a
 * framework without it gets an error naming the dependency to add instead of a {@link
 * NoClassDefFoundError} from inside ZooKeeper's first caller. The daemons (master, agent, {@code
 * mezzo}) always have it.
 */
public final class MasterDetectors {

    /** The dependency that brings Curator and ZooKeeper for {@code zk://} addresses. */
    static final String ZK_DEPENDENCY = "io.mezzo:mezzo-zk-ha";

    /** Classes the ZooKeeper leader reader needs: ZooKeeper's client (not Curator). */
    static final String[] ZK_CLASSES = {
        "org.apache.zookeeper.ZooKeeper",
    };

    private MasterDetectors() {}

    /**
     * A detector for {@code host:port} (one standalone master) or {@code zk://hosts/path} (follows
     * the elected leader in ZooKeeper).
     *
     * @throws IllegalArgumentException with what is wrong with the address
     * @throws IllegalStateException for a {@code zk://} address when ZooKeeper's client is not on
     *     the class path; the message names the Maven dependency to add
     */
    public static MasterDetector fromAddress(String address) {
        return fromAddress(address, TlsSettings.NONE, MasterDetectors::onClassPath);
    }

    /**
     * As {@link #fromAddress(String)}; a {@code zk://} address is followed over TLS when {@code
     * zkTls} configures it ({@code --zk_tls}: the CA verifies the ZooKeeper servers, the certificate,
     * if any, is presented to them). Ignored for {@code host:port}.
     */
    public static MasterDetector fromAddress(String address, TlsSettings zkTls) {
        return fromAddress(address, zkTls, MasterDetectors::onClassPath);
    }

    /** As {@link #fromAddress(String)}, with the test for a class being present injected. */
    static MasterDetector fromAddress(String address, Predicate<String> classPresent) {
        return fromAddress(address, TlsSettings.NONE, classPresent);
    }

    private static MasterDetector fromAddress(String address, TlsSettings zkTls, Predicate<String> classPresent) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("--master is empty: give host:port or zk://host:port/path");
        }
        String a = address.trim();
        if (a.startsWith("zk://")) {
            ZkUrl url;
            try {
                url = ZkUrl.parse(a);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--master " + e.getMessage());
            }
            requireZooKeeperSupport(url, classPresent);
            // The light reader: a plain ZooKeeper client, without Curator's framework, which costs
            // a client about a third of its start-up (docs/benchmarks.md, start-up).
            return ZkLeaderReader.start(url, ZkClients.DEFAULT_SESSION_TIMEOUT, zkTls);
        }
        if (zkTls != null && zkTls.enabled()) {
            throw new IllegalArgumentException("--zk_tls is for a zk:// --master; '" + a
                    + "' is a master's host:port (its TLS is --tls_ca)");
        }
        int colon = a.lastIndexOf(':');
        if (colon <= 0 || colon == a.length() - 1) {
            throw new IllegalArgumentException("--master '" + a + "' is not host:port");
        }
        String host = a.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(a.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--master '" + a + "' has a port that is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--master '" + a + "' has port " + port + " outside 1-65535");
        }
        return new StandaloneMasterDetector(host, port);
    }

    /**
     * Fails with the dependency to add when a class the ZooKeeper detector needs is missing. The URL
     * is printed with its password masked.
     */
    static void requireZooKeeperSupport(ZkUrl url, Predicate<String> classPresent) {
        for (String name : ZK_CLASSES) {
            if (!classPresent.test(name)) {
                throw new IllegalStateException("--master " + url + " needs ZooKeeper master detection, but "
                        + name + " is not on the class path: add the Maven dependency " + ZK_DEPENDENCY
                        + " (same version as mezzo-scheduler-api; it brings Curator and ZooKeeper),"
                        + " or give the master as host:port");
            }
        }
    }

    /** Whether {@code name} can be loaded by the loader of this class, without initializing it. */
    private static boolean onClassPath(String name) {
        try {
            Class.forName(name, false, MasterDetectors.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
