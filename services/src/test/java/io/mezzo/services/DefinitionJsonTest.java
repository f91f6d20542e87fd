package io.mezzo.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Definitions in, exact values out; every malformed definition is refused with a message naming the field. */
class DefinitionJsonTest {

    private static final String FULL = """
            {"id": "web", "args": ["java", "-cp", "app.jar", "Server"], "instances": 3,
             "cpus": 0.25, "mem": "1.5GB", "disk": "512MB", "ports": 2,
             "env": {"GREETING": "hi"}, "fetch": ["http://example.com/app.tgz"],
             "healthCheck": {"type": "HTTP", "path": "/health", "portIndex": 1, "interval": "2s", "timeout": "500ms",
                             "delay": 1, "gracePeriod": "5s", "maxConsecutiveFailures": 2},
             "constraints": [["hostname", "UNIQUE"], ["rack", "GROUP_BY"], ["zone", "EQUALS", "a"], ["os", "LIKE", "linux.*"]],
             "killGracePeriod": "10s", "role": "web",
             "upgradeStrategy": {"maxParallel": 2, "minHealthy": "75%", "maxSurge": 1, "canaries": 1,
                                 "autoPromoteAfter": "1m", "autoRevert": true, "progressDeadline": "5m"},
             "backoff": {"initial": "2s", "max": "1m", "crashLoopLimit": 5}}
            """;

    @Test
    void readsHumanUnitsIntoExactValues() {
        ServiceDefinition d = DefinitionJson.parse(FULL);
        assertThat(d.cpusMilli()).isEqualTo(250);
        assertThat(d.memMilli()).isEqualTo(1536_000);
        assertThat(d.diskMilli()).isEqualTo(512_000);
        assertThat(d.args()).containsExactly("java", "-cp", "app.jar", "Server");
        assertThat(d.env()).isEqualTo(Map.of("GREETING", "hi"));
        assertThat(d.healthCheck().portIndex()).isEqualTo(1);
        assertThat(d.healthCheck().timeoutMillis()).isEqualTo(500);
        assertThat(d.healthCheck().delayMillis()).isEqualTo(1000);
        assertThat(d.constraints()).hasSize(4);
        assertThat(d.upgrade().minHealthy(4)).isEqualTo(3);
        assertThat(d.upgrade().minHealthy(3)).as("fractions round up").isEqualTo(3);
        assertThat(d.upgrade().autoPromoteAfterMillis()).isEqualTo(60_000);
        assertThat(d.backoff().delayMillis(1)).isEqualTo(2_000);
        assertThat(d.backoff().delayMillis(3)).isEqualTo(8_000);
        assertThat(d.backoff().delayMillis(10)).isEqualTo(60_000);
    }

    @Test
    void theCanonicalFormReadsBackEqual() {
        ServiceDefinition d = DefinitionJson.parse(FULL);
        assertThat(DefinitionJson.parse(DefinitionJson.write(d).toString())).isEqualTo(d);
        ServiceDefinition minimal = DefinitionJson.parse("{\"id\":\"a\",\"cmd\":\"sleep 1000\"}");
        assertThat(DefinitionJson.parse(DefinitionJson.write(minimal).toString())).isEqualTo(minimal);
        assertThat(minimal.instances()).isEqualTo(1);
        assertThat(minimal.upgrade().minHealthy(3)).isEqualTo(3);
        assertThat(DefinitionJson.write(minimal).get("mem").asText()).isEqualTo("128MB");
        assertThat(DefinitionJson.megabytes(1024_000)).isEqualTo("1GB");
        assertThat(DefinitionJson.megabytes(1536_000)).isEqualTo("1.5GB");
        assertThat(DefinitionJson.megabytes(1000_000)).isEqualTo("1000MB");
    }

    @Test
    void minHealthyAsACount() {
        ServiceDefinition d = DefinitionJson.parse("{\"id\":\"a\",\"cmd\":\"x\",\"upgradeStrategy\":{\"minHealthy\":2}}");
        assertThat(d.upgrade().minHealthy(5)).isEqualTo(2);
        assertThat(d.upgrade().minHealthy(1)).isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"id\":\"a\",\"cmd\":\"x\",\"instnaces\":3}|unknown field 'instnaces'",
        "{\"id\":\"a\",\"cmd\":\"x\",\"healthCheck\":{\"type\":\"TCP\",\"prot\":1}}|unknown field 'healthCheck.prot'",
        "{\"id\":\"a\",\"cmd\":\"x\",\"upgradeStrategy\":{\"canary\":1}}|unknown field 'upgradeStrategy.canary'",
        "{\"cmd\":\"x\"}|id is required",
        "{\"id\":\"Web_1\",\"cmd\":\"x\"}|id 'Web_1' must be",
        "{\"id\":\"a\"}|give exactly one of cmd",
        "{\"id\":\"a\",\"cmd\":\"x\",\"args\":[\"y\"]}|give exactly one of cmd",
        "{\"id\":\"a\",\"cmd\":\"x\",\"cpus\":0.0001}|cpus must be positive with at most 3 decimals",
        "{\"id\":\"a\",\"cmd\":\"x\",\"mem\":\"lots\"}|mem must be a size",
        "{\"id\":\"a\",\"cmd\":\"x\",\"mem\":\"1PB\"}|unknown unit 'PB'",
        "{\"id\":\"a\",\"cmd\":\"x\",\"mem\":16}|mem must be at least 32MB",
        "{\"id\":\"a\",\"cmd\":\"x\",\"instances\":-1}|instances must be a whole number from 0 to 1000",
        "{\"id\":\"a\",\"cmd\":\"x\",\"healthCheck\":{\"type\":\"HTTP\"}}|needs at least 1 ports, but the service asks for 0",
        "{\"id\":\"a\",\"cmd\":\"x\",\"healthCheck\":{\"type\":\"GRPC\"}}|is not HTTP, TCP or COMMAND",
        "{\"id\":\"a\",\"cmd\":\"x\",\"env\":{\"PORT0\":\"1\"}}|PORT0 is set by the service scheduler",
        "{\"id\":\"a\",\"cmd\":\"x\",\"constraints\":[[\"rack\",\"NEAR\"]]}|operator must be UNIQUE, GROUP_BY, EQUALS or LIKE",
        "{\"id\":\"a\",\"cmd\":\"x\",\"constraints\":[[\"rack\",\"LIKE\",\"(\"]]}|is not a valid regex",
        "{\"id\":\"a\",\"cmd\":\"x\",\"constraints\":[[\"rack\",\"EQUALS\"]]}|EQUALS needs a value",
        "{\"id\":\"a\",\"cmd\":\"x\",\"upgradeStrategy\":{\"minHealthy\":1.5}}|fraction must be between 0 and 1",
        "{\"id\":\"a\",\"cmd\":\"x\",\"upgradeStrategy\":{\"maxSurge\":0}}|no instance can ever be replaced",
        "{\"id\":\"a\",\"cmd\":\"x\",\"killGracePeriod\":\"soon\"}|killGracePeriod must be a duration",
        "{\"id\":\"a\",\"cmd\":\"x\",\"backoff\":{\"initial\":\"1m\",\"max\":\"1s\"}}|backoff needs 0 < initial <= max",
        "[1]|a service definition is a JSON object",
        "{\"id\":|not valid JSON"
    })
    void refusesWithASpecificMessage(String json, String message) {
        assertThatThrownBy(() -> DefinitionJson.parse(json)).isInstanceOf(InvalidDefinitionException.class)
                .hasMessageContaining(message);
    }

    @Test
    void theValidatorKnowsWhatNoAgentCanDo() {
        List<AgentView> agents = List.of(
                new AgentView("a1", "h1", Map.of("rack", "r1"), 2_000, 1024_000, 10_000_000, 100),
                new AgentView("a2", "h2", Map.of("rack", "r2"), 4_000, 2048_000, 10_000_000, 100));
        String base = "{\"id\":\"a\",\"cmd\":\"x\",\"mem\":64";
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + "}"), agents)).isNull();
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + ",\"cpus\":8}"), agents))
                .contains("no agent can hold one instance").contains("cpus 8").contains("largest agent seen has cpus 4");
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + ",\"instances\":3,\"constraints\":[[\"hostname\",\"UNIQUE\"]]}"), agents))
                .contains("3 instances need as many distinct values of hostname").contains("2");
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + ",\"constraints\":[[\"rack\",\"EQUALS\",\"r9\"]]}"), agents))
                .contains("no known agent has rack = r9").contains("[r1, r2]");
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + ",\"constraints\":[[\"zone\",\"GROUP_BY\"]]}"), agents))
                .contains("no known agent has the attribute zone");
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + ",\"instances\":2,\"upgradeStrategy\":{\"canaries\":3}}"), agents))
                .contains("canaries (3) is more than instances (2)");
        assertThat(DefinitionValidator.validate(DefinitionJson.parse(base + ",\"cpus\":8}"), List.of()))
                .as("nothing known yet: only the definition is checked").isNull();
    }
}
