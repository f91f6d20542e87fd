package io.mezzo.services;

import io.mezzo.common.security.Credential;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.common.clock.Clock;
import io.mezzo.common.clock.SystemClock;
import io.mezzo.common.loop.FaultHandler;
import io.mezzo.common.loop.LoggingFaultHandler;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * How a services daemon runs. Immutable; built with {@link #builder()}.
 *
 * @param master the masters: {@code host:port} or {@code zk://hosts/path}
 * @param zk where this daemon elects its leader and keeps its state ({@code zk://hosts/path}; the state
 *     goes under {@code <path>/services}), or null for one standalone daemon whose state lives in memory
 * @param httpHost address the HTTP API binds and advertises
 * @param httpPort HTTP API port; 0 picks a free one
 * @param failoverTimeout how long the master keeps the services' tasks while no services daemon is
 *     connected
 * @param onLost told when this daemon's leadership ends for good (production: exit, to be restarted)
 * @param tls how the scheduler client reaches the masters: {@code ca()} verifies their certificates,
 *     {@code cert()}/{@code key()}, if set, are presented (mutual TLS); {@link TlsSettings#NONE}: plaintext
 * @param credential principal and secret the framework authenticates with (over TLS), or null
 * @param zkTls TLS to ZooKeeper (a {@code zk://} master address and {@code zk}), or {@link TlsSettings#NONE}
 */
public record ServicesConfig(String master, String zk, String httpHost, int httpPort, String frameworkName,
        String user, Duration failoverTimeout, Clock clock, FaultHandler faultHandler, Consumer<String> onLost,
        TlsSettings tls, Credential credential, TlsSettings zkTls) {

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServicesConfig}. */
    public static final class Builder {
        private String master;
        private String zk;
        private String httpHost = "127.0.0.1";
        private int httpPort = 5054;
        private String frameworkName = "mezzo-services";
        private String user = System.getProperty("user.name", "");
        private Duration failoverTimeout = Duration.ofDays(7);
        private Clock clock = SystemClock.INSTANCE;
        private FaultHandler faultHandler = LoggingFaultHandler.INSTANCE;
        private Consumer<String> onLost = reason -> { };
        private TlsSettings tls = TlsSettings.NONE;
        private Credential credential;
        private TlsSettings zkTls = TlsSettings.NONE;

        /** TLS towards the masters (docs/security.md); default plaintext. */
        public Builder tls(TlsSettings tls) {
            this.tls = tls == null ? TlsSettings.NONE : tls;
            return this;
        }

        /** The framework's credential (sent over TLS); default none. */
        public Builder credential(Credential credential) {
            this.credential = credential;
            return this;
        }

        /** TLS to ZooKeeper; default plaintext. */
        public Builder zkTls(TlsSettings zkTls) {
            this.zkTls = zkTls == null ? TlsSettings.NONE : zkTls;
            return this;
        }

        /** The masters (required). */
        public Builder master(String master) {
            this.master = master;
            return this;
        }

        /** ZooKeeper for election and state; null for standalone. */
        public Builder zk(String zk) {
            this.zk = zk;
            return this;
        }

        /** HTTP API address. */
        public Builder httpHost(String host) {
            this.httpHost = host;
            return this;
        }

        /** HTTP API port (0: any free one). */
        public Builder httpPort(int port) {
            this.httpPort = port;
            return this;
        }

        /** Framework name shown by the master. */
        public Builder frameworkName(String name) {
            this.frameworkName = name;
            return this;
        }

        /** User the instances run as, unless the agent decides otherwise. */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** How long the master keeps the tasks while no services daemon is connected. */
        public Builder failoverTimeout(Duration timeout) {
            this.failoverTimeout = timeout;
            return this;
        }

        /** Time source. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Where broken invariants go. */
        public Builder faultHandler(FaultHandler handler) {
            this.faultHandler = handler;
            return this;
        }

        /** Told when leadership ends for good. */
        public Builder onLost(Consumer<String> onLost) {
            this.onLost = onLost;
            return this;
        }

        /** The config. */
        public ServicesConfig build() {
            if (master == null || master.isBlank()) {
                throw new IllegalArgumentException("--master is required (host:port or zk://hosts/path)");
            }
            if (httpPort < 0 || httpPort > 65535) {
                throw new IllegalArgumentException("--http_port must be 0 to 65535");
            }
            if (zk != null && !zk.startsWith("zk://")) {
                throw new IllegalArgumentException("--zk must be a zk://hosts/path URL");
            }
            return new ServicesConfig(master, zk, httpHost, httpPort, frameworkName, user, failoverTimeout, clock,
                    faultHandler, onLost, tls, credential, zkTls);
        }
    }
}
