package io.mezzo.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.common.resources.Resources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentConfigTest {

    private static final Path WORK = Path.of("/tmp/mezzo-agent-config-test");

    @Test
    void hasDocumentedDefaults() {
        AgentConfig c = AgentConfig.builder().master("127.0.0.1:5050").workDir(WORK).build();
        assertThat(c.ip()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(5051);
        assertThat(c.hostname()).isEqualTo("127.0.0.1");
        assertThat(c.resources()).isEqualTo(Resources.EMPTY);
        assertThat(c.attributes()).isEmpty();
        assertThat(c.registrationBackoffInitial()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.registrationBackoffMax()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.statusUpdateRetryInitial()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.statusUpdateRetryMax()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.defaultKillGracePeriod()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.masterDetector().leader()).hasValueSatisfying(m -> assertThat(m.getPort()).isEqualTo(5050));
    }

    @Test
    void takesFlags() {
        AgentConfig c = AgentConfig.builder()
                .master("master.example:6050")
                .ip("10.0.0.5")
                .port(0)
                .hostname("node-5")
                .workDir(WORK)
                .resources("cpus:2;mem:1024")
                .attributes("rack:r1")
                .build();
        assertThat(c.port()).isZero();
        assertThat(c.hostname()).isEqualTo("node-5");
        assertThat(c.resources().toString()).isEqualTo("cpus:2;mem:1024");
        assertThat(c.attributes()).hasSize(1);
    }

    @Test
    void toStringLeavesTheEnvironmentOut() {
        AgentConfig c = AgentConfig.builder()
                .master("127.0.0.1:5050")
                .workDir(WORK)
                .environment(Map.of("SECRET_TOKEN", "hunter2"))
                .build();
        assertThat(c.toString()).startsWith("AgentConfig[master=").doesNotContain("hunter2");
        assertThat(c.environment()).containsEntry("SECRET_TOKEN", "hunter2");
    }

    @Test
    void rejectsBadSettingsNamingThem() {
        assertThatThrownBy(() -> AgentConfig.builder().workDir(WORK).build()).hasMessage("--master is required");
        assertThatThrownBy(() -> AgentConfig.builder().master("nohost"))
                .hasMessageContaining("--master 'nohost' is not host:port");
        assertThatThrownBy(() -> AgentConfig.builder().master("h:1").build())
                .hasMessage("--work_dir is required");
        assertThatThrownBy(() -> AgentConfig.builder().master("h:1").workDir(WORK).port(70000).build())
                .hasMessage("--port 70000 is outside 0-65535");
        assertThatThrownBy(() -> AgentConfig.builder().resources("cpus:x"))
                .hasMessageStartingWith("--resources: resource 'cpus:x'");
        assertThatThrownBy(() -> AgentConfig.parseAttributes("a:1;a:2"))
                .hasMessage("--attributes: attribute 'a' is given twice");
        assertThatThrownBy(() -> AgentConfig.builder()
                        .master("h:1")
                        .workDir(WORK)
                        .registrationBackoff(Duration.ofSeconds(5), Duration.ofSeconds(1))
                        .build())
                .hasMessageContaining("registration backoff maximum");
        assertThatThrownBy(() -> AgentConfig.builder()
                        .master("h:1")
                        .workDir(WORK)
                        .statusUpdateRetry(Duration.ZERO, Duration.ofSeconds(1))
                        .build())
                .hasMessageContaining("status update retry must be positive");
    }
}
