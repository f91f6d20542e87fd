package io.mezzo.dist.cli;

import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --master}, {@code --timeout} and the TLS flags of the operator tools; they connect with
 * {@link LeaderConnection}.
 */
final class MasterOptions {

    @Option(names = "--master", paramLabel = "HOST:PORT|zk://...", defaultValue = "127.0.0.1:5050",
            description = "Any master (the leader is found through it), or zk://host:port,.../path to follow the"
                    + " elected leader. Default: ${DEFAULT-VALUE} (or MEZZO_MASTER).")
    String master;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30secs", converter = DurationConverter.class,
            description = "How long to wait for a leading master (and for each call). Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Mixin
    TlsOptions tls;

    LeaderConnection connect() {
        return LeaderConnection.open(master, timeout, tls.settings(), tls.zkSettings(), tls.credential());
    }
}
