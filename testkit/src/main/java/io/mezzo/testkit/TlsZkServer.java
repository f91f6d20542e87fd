package io.mezzo.testkit;

import io.mezzo.common.security.Pki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A real ZooKeeper server in this JVM with a TLS client port that requires a client certificate
 * ({@code ssl.clientAuth=need}) signed by a {@link TestPki}, configured as docs/security.md tells
 * operators to: {@code secureClientPort}, the Netty connection factory, PEM key and trust stores,
 * the {@code x509} auth provider. It also keeps a plaintext port (Curator's server always has one).
 * Bound to 127.0.0.1 on free ports.
 *
 * <p>ZooKeeper's server reads its {@code ssl.*} settings as JVM-wide system properties; this
 * fixture restores the system properties it found when it closes, so the settings do not leak into
 * later tests. One per test; not thread-safe.
 */
public final class TlsZkServer implements AutoCloseable {

    private final Properties saved;
    private final TestingServer server;
    private final int securePort;

    /** Starts a server presenting {@code pki}'s certificate for {@code name} and trusting {@code pki}. */
    public TlsZkServer(TestPki pki, String name, Path dir) throws Exception {
        saved = (Properties) System.getProperties().clone();
        Pki.Issued cert = pki.issue(name);
        // ZooKeeper's PEM key store is one file holding the certificate chain and the key.
        Path keyStore = dir.resolve(name + "-zk-keystore.pem");
        Files.writeString(keyStore, Files.readString(cert.cert(), StandardCharsets.US_ASCII)
                + Files.readString(cert.key(), StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
        securePort = InstanceSpec.getRandomPort();
        Map<String, Object> props = Map.of(
                "clientPortAddress", "127.0.0.1",
                "secureClientPort", String.valueOf(securePort),
                "secureClientPortAddress", "127.0.0.1",
                "serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory",
                "authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
                "ssl.keyStore.location", keyStore.toString(),
                "ssl.keyStore.type", "PEM",
                "ssl.trustStore.location", pki.ca().toString(),
                "ssl.trustStore.type", "PEM",
                "ssl.clientAuth", "need");
        InstanceSpec spec = new InstanceSpec(null, InstanceSpec.getRandomPort(), InstanceSpec.getRandomPort(),
                InstanceSpec.getRandomPort(), true, 1, 500, 100, props, "127.0.0.1");
        TestingServer started;
        try {
            started = new TestingServer(spec, true);
        } catch (Exception e) {
            restoreSystemProperties();
            throw e;
        }
        server = started;
    }

    /** "127.0.0.1:p" of the TLS port. */
    public String secureConnectString() {
        return "127.0.0.1:" + securePort;
    }

    /** "127.0.0.1:p" of the plaintext port. */
    public String plainConnectString() {
        return server.getConnectString();
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            restoreSystemProperties();
        }
    }

    private void restoreSystemProperties() {
        Properties now = System.getProperties();
        now.keySet().removeIf(k -> !saved.containsKey(k));
        now.putAll(saved);
    }
}
