package io.mezzo.ha.zk;

import io.mezzo.common.security.TlsSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;

/**
 * TLS from a Mezzo client to ZooKeeper ({@code --zk_tls}): turns the PEM files of {@code
 * --tls_cert}, {@code --tls_key}, {@code --tls_ca} into the {@link ZKClientConfig} of one client,
 * never into JVM-wide system properties (two clients in one JVM, a test's ZooKeeper server
 * included, must not leak settings into each other: every TLS key is set, empty when unused).
 *
 * <p>What the client checks: the server's certificate is signed by {@code --tls_ca} and names the
 * host dialed (ZooKeeper's host name verification, on). What it presents: {@code --tls_cert} when
 * given, for servers with {@code ssl.clientAuth=need}; its CN is the principal ZooKeeper's {@code
 * x509} auth provider sees.
 *
 * <p>ZooKeeper's Netty socket reads a PEM key store as one file holding both the certificate chain
 * and the private key, so the two files are joined into a file readable by this user only ({@code
 * 0600}), deleted when the JVM exits. The material is read when a connection is first made (and
 * after a session is re-created): unlike the gRPC ports, renewing it needs a restart.
 *
 * <p>Stateless; any thread.
 */
public final class ZkTls {

    private ZkTls() {}

    /**
     * The client configuration for TLS with {@code tls}, or null for plaintext (null or {@link
     * TlsSettings#NONE}).
     *
     * @throws IllegalArgumentException naming the flag when the settings cannot make a TLS client
     */
    public static ZKClientConfig clientConfig(TlsSettings tls) {
        if (tls == null || !tls.enabled()) {
            return null;
        }
        if (tls.ca() == null) {
            throw new IllegalArgumentException(
                    "--zk_tls needs --tls_ca: the CA that signed the ZooKeeper servers' certificates");
        }
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
        try (ClientX509Util x509 = new ClientX509Util()) {
            if (tls.cert() != null) {
                config.setProperty(x509.getSslKeystoreLocationProperty(), keyStore(tls).toString());
                config.setProperty(x509.getSslKeystoreTypeProperty(), "PEM");
            } else {
                config.setProperty(x509.getSslKeystoreLocationProperty(), "");
                config.setProperty(x509.getSslKeystoreTypeProperty(), "");
            }
            config.setProperty(x509.getSslKeystorePasswdProperty(), "");
            config.setProperty(x509.getSslKeystorePasswdPathProperty(), "");
            config.setProperty(x509.getSslTruststoreLocationProperty(), tls.ca().toString());
            config.setProperty(x509.getSslTruststoreTypeProperty(), "PEM");
            config.setProperty(x509.getSslTruststorePasswdProperty(), "");
            config.setProperty(x509.getSslTruststorePasswdPathProperty(), "");
            config.setProperty(x509.getSslHostnameVerificationEnabledProperty(), "true");
            config.setProperty(x509.getSslContextSupplierClassProperty(), "");
        }
        return config;
    }

    /** The certificate chain and the key in one owner-only file, as ZooKeeper's PEM key store wants. */
    private static Path keyStore(TlsSettings tls) {
        try {
            String pem = Files.readString(tls.cert(), StandardCharsets.US_ASCII);
            if (!pem.endsWith("\n")) {
                pem += "\n";
            }
            pem += Files.readString(tls.key(), StandardCharsets.US_ASCII);
            Path file = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                    ? Files.createTempFile("mezzo-zk-tls-", ".pem",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createTempFile("mezzo-zk-tls-", ".pem");
            file.toFile().deleteOnExit();
            Files.writeString(file, pem, StandardCharsets.US_ASCII);
            return file;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot prepare the ZooKeeper TLS key store from --tls_cert "
                    + tls.cert() + " and --tls_key " + tls.key() + ": " + e.getMessage(), e);
        }
    }
}
