package io.mezzo.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA, credentials and header helpers every daemon and client uses. */
class SecurityHelpersTest {

    @TempDir
    Path dir;

    @Test
    void issuedCertificatesNameTheirPrincipalAndAreSignedByTheCa() throws Exception {
        long t0 = System.nanoTime();
        Pki.Issued ca = Pki.createCa(dir, "test CA", Duration.ofDays(1));
        long t1 = System.nanoTime();
        Pki.Issued node = Pki.issue(dir, "master-1", List.of("10.0.0.5", "m1.example"), dir, Duration.ofDays(1));
        long t2 = System.nanoTime();
        System.out.printf("CA %d ms, cert %d ms%n", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
        X509Certificate caCert = read(ca.cert());
        X509Certificate leaf = read(node.cert());
        leaf.verify(caCert.getPublicKey());
        assertThat(Principals.of(leaf)).isEqualTo("master-1");
        assertThat(leaf.getSubjectAlternativeNames()).extracting(san -> String.valueOf(san.get(1)))
                .contains("master-1", "localhost", "127.0.0.1", "10.0.0.5", "m1.example");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(node.key()))).isEqualTo("rw-------");
        // Loads as a daemon would.
        try (TlsContext tls = TlsContext.of(new TlsSettings(node.cert(), node.key(), ca.cert(), ClientAuth.REQUIRE))) {
            assertThat(tls.serverCredentials()).isNotNull();
        }
        assertThatThrownBy(() -> Pki.issue(dir, "master-1", List.of(), dir, Duration.ofDays(1)))
                .hasMessageContaining("already exists");
        assertThatThrownBy(() -> Pki.issue(dir, "../x", List.of(), dir, Duration.ofDays(1)))
                .hasMessageContaining("--name");
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void credentialsVerifyInConstantTimeAndNeverPrintTheSecret() throws Exception {
        Path json = dir.resolve("c.json");
        Files.writeString(json, "{\"credentials\": [{\"principal\": \"a\", \"secret\": \"s1\"}, {\"principal\": \"b\", \"secret\": \"s2\"}]}");
        CredentialsFile file = CredentialsFile.load(json);
        assertThat(file.verify("a", "s1")).isTrue();
        assertThat(file.verify("a", "s2")).isFalse();
        assertThat(file.verify("c", "s1")).isFalse();
        Path text = dir.resolve("c.txt");
        Files.writeString(text, "# comment\nsched  topsecret\n");
        Credential c = CredentialsFile.single(text);
        assertThat(c.principal()).isEqualTo("sched");
        assertThat(c.toString()).doesNotContain("topsecret");
        assertThat(BasicAuth.parse(BasicAuth.header(c))).isEqualTo(c);
        assertThat(BasicAuth.parse("Bearer x")).isNull();
        Files.writeString(text, "a s\na t\n");
        assertThatThrownBy(() -> CredentialsFile.load(text)).hasMessageContaining("twice");
        assertThatThrownBy(() -> new TlsSettings(null, null, null, ClientAuth.REQUIRE)).hasMessageContaining("--tls_ca");
    }
}
