package io.mezzo.ha;

import io.mezzo.proto.v1.MasterInfo;
import java.util.Optional;
import java.util.function.Consumer;

/** A detector for a single master at a fixed address: it is always the leader. */
public final class StandaloneMasterDetector implements MasterDetector {

    private final MasterInfo master;

    /** A detector for the master at {@code host:port}. */
    public StandaloneMasterDetector(String host, int port) {
        this.master = MasterInfo.newBuilder().setHostname(host).setIp(host).setPort(port).build();
    }

    /** A detector for the master described by {@code info}. */
    public StandaloneMasterDetector(MasterInfo info) {
        this.master = info;
    }

    @Override
    public Optional<MasterInfo> leader() {
        return Optional.of(master);
    }

    @Override
    public void addListener(Consumer<Optional<MasterInfo>> listener) {
        listener.accept(Optional.of(master));
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "StandaloneMasterDetector[" + master.getIp() + ":" + master.getPort() + "]";
    }
}
