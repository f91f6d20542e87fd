package io.mezzo.dist.cli;

import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.common.security.TlsSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --tls_cert}, {@code --tls_key}, {@code --tls_ca}, {@code --tls_client_auth}, {@code
 * --credential} and {@code --zk_tls}: the same names on every daemon and client (each also from {@code MEZZO_TLS_CERT}
 * and so on). See docs/security.md.
 */
final class TlsOptions {

    @Option(names = "--tls_cert", paramLabel = "PEM",
            description = "Certificate chain (PEM) this process presents: a daemon serves TLS with it; a client"
                    + " presents it for mutual TLS (its CN is the principal). Re-read every minute."
                    + " Default: none (plaintext).")
    Path cert;

    @Option(names = "--tls_key", paramLabel = "PEM", description = "Private key (PKCS#8 PEM) of --tls_cert. Default: none.")
    Path key;

    @Option(names = "--tls_ca", paramLabel = "PEM",
            description = "CA certificate(s) (PEM) trusted to sign peers: servers' certificates for a client,"
                    + " client certificates for a daemon. `mezzo tls ca` makes one. Default: none (clients trust the JVM's CAs).")
    Path ca;

    @Option(names = "--tls_client_auth", paramLabel = "MODE", defaultValue = "none",
            description = "Whether a daemon asks clients for a certificate signed by --tls_ca: none, optional"
                    + " (a certificate, when given, is the client's principal) or require (no certificate, no"
                    + " connection). Default: ${DEFAULT-VALUE}.")
    String clientAuth;

    @Option(names = "--credential", paramLabel = "FILE",
            description = "File holding this client's principal and secret ('principal secret' on one line, or"
                    + " Mesos JSON) sent to the master over TLS. Default: none.")
    Path credential;

    @Option(names = "--zk_tls", negatable = true, defaultValue = "false", fallbackValue = "true",
            description = "Reach ZooKeeper (a zk:// --zk or --master) over TLS with the same files: --tls_ca verifies"
                    + " the ZooKeeper servers' certificates, --tls_cert/--tls_key are presented to servers that"
                    + " ask for client certificates. The servers need a secureClientPort (docs/security.md)."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean zkTls;

    /** TLS to ZooKeeper: the --tls_* files when --zk_tls, else plaintext. */
    TlsSettings zkSettings() {
        if (!zkTls) {
            return TlsSettings.NONE;
        }
        if (ca == null) {
            throw new IllegalArgumentException(
                    "--zk_tls needs --tls_ca: the CA that signed the ZooKeeper servers' certificates");
        }
        return new TlsSettings(cert, key, ca, ClientAuth.NONE);
    }

    /** The settings; throws IllegalArgumentException naming the bad flag. */
    TlsSettings settings() {
        return new TlsSettings(cert, key, ca, ClientAuth.parse(clientAuth));
    }

    /** The client credential, or null. */
    Credential credential() {
        return credential == null ? null : CredentialsFile.single(credential);
    }
}
