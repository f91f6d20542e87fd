package io.mezzo.ha;

/** Builds a {@link MasterDetector} from the {@code --master} flag. */
public final class MasterDetectors {

    private MasterDetectors() {}

    /**
     * Parses {@code host:port}. ({@code zk://} addresses are followed by the ZooKeeper detector.)
     *
     * @throws IllegalArgumentException with what is wrong with the address
     */
    public static MasterDetector fromAddress(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("--master is empty: give host:port");
        }
        String a = address.trim();
        if (a.startsWith("zk://")) {
            throw new IllegalArgumentException("--master " + a + ": ZooKeeper detection is not available in this build;"
                    + " give the master as host:port");
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
