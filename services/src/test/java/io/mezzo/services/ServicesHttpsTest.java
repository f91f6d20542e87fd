package io.mezzo.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.TlsContext;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.testkit.TestPki;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** With --tls_cert the API serves HTTPS and, with client auth required, answers only callers with a certificate of the CA. */
@Timeout(30)
class ServicesHttpsTest {

    @TempDir
    Path dir;

    private static HttpClient client(TlsSettings settings) throws Exception {
        TlsContext tls = TlsContext.of(settings);
        try {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(tls.keyManager() == null ? null : new KeyManager[] {tls.keyManager()},
                    new TrustManager[] {tls.trustManager()}, null);
            return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
        } finally {
            tls.close();
        }
    }

    @Test
    void servesHttpsAndRequiresAClientCertificate() throws Exception {
        TestPki pki = TestPki.create(dir);
        // The master is unreachable: the API answers anyway (list is served by the leader, which this standalone daemon is).
        try (ServicesDaemon d = new ServicesDaemon(ServicesConfig.builder().master("127.0.0.1:1").httpPort(0)
                .tls(pki.server("services", ClientAuth.REQUIRE)).build())) {
            d.start();
            assertThat(d.url()).startsWith("https://");
            HttpRequest list = HttpRequest.newBuilder(URI.create(d.url() + "/v1/services")).timeout(Duration.ofSeconds(10)).build();
            HttpResponse<String> ok = client(pki.client("ops")).send(list, HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isIn(200, 503);
            assertThatThrownBy(() -> client(pki.client(null)).send(list, HttpResponse.BodyHandlers.ofString()))
                    .as("no client certificate, no answer").isInstanceOf(IOException.class);
        }
    }
}
