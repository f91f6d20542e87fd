package io.mezzo.ha;

import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkMasterDetector;
import io.mezzo.ha.zk.ZkUrl;

/** Builds a {@link MasterDetector} from the {@code --master} flag. */
public final class MasterDetectors {

    private MasterDetectors() {}

    /**
     * A detector for {@code host:port} (one standalone master) or {@code zk://hosts/path} (follows
     * the elected leader in ZooKeeper).
     *
     * @throws IllegalArgumentException with what is wrong with the address
     */
    public static MasterDetector fromAddress(String address) {
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
            return ZkMasterDetector.start(url, ZkClients.DEFAULT_SESSION_TIMEOUT);
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
}
