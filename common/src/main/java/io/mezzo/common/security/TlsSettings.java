package io.mezzo.common.security;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The TLS flags of a daemon or a client, as given: {@code --tls_cert}, {@code --tls_key}, {@code
 * --tls_ca}, {@code --tls_client_auth}. All unset means plaintext. A server needs a certificate and
 * its key; a client needs the CA (to verify the server) and, for mutual TLS, a certificate and key
 * of its own. Immutable.
 *
 * @param cert PEM certificate chain presented to peers, leaf first; null for none
 * @param key PEM private key (PKCS#8) of {@code cert}; null for none
 * @param ca PEM certificates of the authorities trusted to sign peers' certificates; null for the
 *     JVM's default trust store (clients) or no client certificates (servers)
 * @param clientAuth what a server asks of its clients; ignored by clients
 */
public record TlsSettings(Path cert, Path key, Path ca, ClientAuth clientAuth) {

    /** Plaintext. */
    public static final TlsSettings NONE = new TlsSettings(null, null, null, ClientAuth.NONE);

    /** Checks that the settings make sense together; throws IllegalArgumentException naming the flag. */
    public TlsSettings {
        if (clientAuth == null) {
            clientAuth = ClientAuth.NONE;
        }
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("--tls_cert and --tls_key go together; got only "
                    + (cert == null ? "--tls_key" : "--tls_cert"));
        }
        if (clientAuth != ClientAuth.NONE && ca == null) {
            throw new IllegalArgumentException("--tls_client_auth=" + clientAuth.name().toLowerCase()
                    + " needs --tls_ca (the authority that signs client certificates)");
        }
        for (Path p : new Path[] {cert, key, ca}) {
            if (p != null && !Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS file " + p + " does not exist or cannot be read");
            }
        }
    }

    /** Whether any TLS is configured. */
    public boolean enabled() {
        return cert != null || ca != null;
    }

    /** Whether this side can serve TLS (it has a certificate). */
    public boolean canServe() {
        return cert != null;
    }
}
