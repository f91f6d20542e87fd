package io.mezzo.dist.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.services.ServicesConfig;
import io.mezzo.services.ServicesDaemon;
import io.mezzo.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service scheduler against a secure master (TLS, framework authentication): with the CA and its
 * credential it subscribes; without a credential the master refuses it and its leadership ends.
 */
@Timeout(60)
class SecureServicesTest {

    private static final Credential SERVICES = new Credential("services", "services-secret");
    private static final Pattern CONNECTED = Pattern.compile("(?m)^mezzo_master_frameworks\\{[^}]*connected[^}]*\\} 1(\\.0)?$");

    @TempDir
    Path dir;

    private Master master;
    private ServicesDaemon services;

    @AfterEach
    void stop() {
        if (services != null) {
            services.close();
        }
        if (master != null) {
            master.close();
        }
    }

    private TestPki secureMaster() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        master = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("m1")
                .tls(pki.server("master", ClientAuth.OPTIONAL))
                .credentials(CredentialsFile.of(List.of(SERVICES)))
                .authenticateFrameworks(true).authenticateAgents(true).authenticateOperators(true).authenticateHttp(true)
                .build());
        master.start();
        master.elected().get(30, TimeUnit.SECONDS);
        return pki;
    }

    @Test
    void subscribesOverTlsWithItsCredential() throws Exception {
        TestPki pki = secureMaster();
        services = new ServicesDaemon(ServicesConfig.builder().master("127.0.0.1:" + master.port()).httpPort(0)
                .tls(pki.client(null)).credential(SERVICES).build());
        services.start();
        services.elected().get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> CONNECTED.matcher(master.metrics().scrape()).find());
        assertThat(services.isLeading()).isTrue();
    }

    @Test
    void withoutACredentialTheMasterRefusesIt() throws Exception {
        TestPki pki = secureMaster();
        CompletableFuture<String> lost = new CompletableFuture<>();
        services = new ServicesDaemon(ServicesConfig.builder().master("127.0.0.1:" + master.port()).httpPort(0)
                .tls(pki.client(null)).onLost(lost::complete).build());
        services.start();
        assertThat(lost.get(30, TimeUnit.SECONDS)).containsIgnoringCase("auth");
        assertThat(CONNECTED.matcher(master.metrics().scrape()).find()).isFalse();
    }
}
