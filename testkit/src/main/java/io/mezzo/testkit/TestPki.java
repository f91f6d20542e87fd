package io.mezzo.testkit;

import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.Pki;
import io.mezzo.common.security.TlsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A throwaway cluster CA in a test's temporary directory, through the same {@link Pki} that {@code
 * mezzo tls} uses: {@link #issue} makes a certificate whose principal is its name (valid for
 * {@code localhost} and {@code 127.0.0.1}); {@link #server} and {@link #client} turn one into
 * {@code --tls_*} settings. A second {@code TestPki} is a foreign CA, for "a certificate the
 * cluster does not trust" tests. Not thread-safe; one per test.
 */
public final class TestPki {

    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** A new CA in {@code dir} (which must not hold one yet). */
    public static TestPki create(Path dir) {
        Pki.createCa(dir, "Mezzo test CA", Duration.ofDays(1));
        return new TestPki(dir);
    }

    /** The CA certificate. */
    public Path ca() {
        return dir.resolve(Pki.CA_CERT);
    }

    /** Issues (once) a certificate for {@code name}. */
    public Pki.Issued issue(String name) {
        Path cert = dir.resolve(name + ".pem");
        if (cert.toFile().exists()) {
            return new Pki.Issued(cert, dir.resolve(name + "-key.pem"));
        }
        return Pki.issue(dir, name, List.of(), dir, Duration.ofDays(1));
    }

    /** Server settings with {@code name}'s certificate, trusting this CA for client certificates. */
    public TlsSettings server(String name, ClientAuth clientAuth) {
        Pki.Issued i = issue(name);
        return new TlsSettings(i.cert(), i.key(), ca(), clientAuth);
    }

    /** Client settings trusting this CA, presenting {@code name}'s certificate (none when null). */
    public TlsSettings client(String name) {
        if (name == null) {
            return new TlsSettings(null, null, ca(), ClientAuth.NONE);
        }
        Pki.Issued i = issue(name);
        return new TlsSettings(i.cert(), i.key(), ca(), ClientAuth.NONE);
    }
}
