package io.mezzo.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.mezzo.ha.registry.InMemoryRegistry;
import io.mezzo.ha.registry.Registry;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The service scheduler's rules on a manual clock, with offers and updates as values. */
@Timeout(30)
class ServiceManagerTest {

    private final Harness h = new Harness();

    @AfterEach
    void close() {
        h.close();
    }

    private static String web(int instances, String extra) {
        return "{\"id\":\"web\",\"cmd\":\"./server\",\"instances\":" + instances + ",\"cpus\":0.5,\"mem\":\"64MB\",\"ports\":2,"
                + "\"healthCheck\":{\"type\":\"HTTP\",\"path\":\"/health\",\"interval\":\"1s\"},"
                + "\"backoff\":{\"initial\":\"1s\",\"max\":\"8s\",\"crashLoopLimit\":4}" + extra + "}";
    }

    private static Map<String, String> env(TaskInfo t) {
        return t.getCommand().getEnvironment().getVariablesList().stream()
                .collect(Collectors.toMap(Environment.Variable::getName, Environment.Variable::getValue));
    }

    @Test
    void launchesTheInstancesWithTheirPortsAndHealthCheck() {
        h.deploy(web(3, ""));
        assertThat(h.driver.suppressed).isFalse();
        assertThat(h.offer("a1")).isEqualTo(3);
        List<TaskInfo> tasks = h.driver.launched;
        assertThat(tasks).extracting(t -> t.getTaskId().getValue()).containsExactly("web.1.1", "web.1.2", "web.1.3");
        assertThat(tasks).extracting(t -> env(t).get("PORT0")).doesNotHaveDuplicates().allMatch(p -> p.startsWith("310"));
        TaskInfo first = tasks.get(0);
        assertThat(env(first)).containsEntry("PORT0", "31000").containsEntry("PORT1", "31001").containsEntry("PORT", "31000");
        assertThat(first.getHealthCheck().getHttp().getPort()).isEqualTo(31000);
        assertThat(first.getResourcesList()).isNotEmpty();
        // Recorded before launch: the store holds every instance.
        assertThat(h.store.readAll().get(ServiceManager.INSTANCES)).containsKeys("web.1.1", "web.1.2", "web.1.3");
        h.allHealthy();
        assertThat(h.healthy("web")).isEqualTo(3);
        JsonNode endpoints = h.read(() -> h.manager.endpointsView("web"));
        assertThat(endpoints.get("endpoints")).hasSize(3);
        assertThat(endpoints.get("endpoints").get(0).get("address").asText()).isEqualTo("a1.host:31000");
        // Nothing more to launch: offers stop.
        assertThat(h.driver.suppressed).isTrue();
        assertThat(h.offer("a2")).isZero();
    }

    @Test
    void aFailedInstanceIsReplacedAfterItsBackoff() {
        h.deploy(web(2, ""));
        h.offer("a1");
        h.allHealthy();
        h.status("web.1.1", TaskState.TASK_FAILED, null);
        assertThat(h.offer("a1")).as("backing off").isZero();
        h.advance(Duration.ofMillis(1_000));
        assertThat(h.driver.suppressed).isFalse();
        assertThat(h.offer("a1")).isEqualTo(1);
        assertThat(h.driver.launched.get(2).getTaskId().getValue()).isEqualTo("web.1.3");
    }

    @Test
    void aCrashLoopMarksTheServiceFailedWithItsReason() {
        h.deploy(web(1, ""));
        long[] waits = {1_000, 2_000, 4_000};
        for (int i = 0; i < 4; i++) {
            assertThat(h.offer("a1")).isEqualTo(1);
            String id = h.driver.launched.get(i).getTaskId().getValue();
            h.status(id, TaskState.TASK_RUNNING, null);
            h.status(id, TaskState.TASK_FAILED, null);
            if (i < 3) {
                h.advance(Duration.ofMillis(waits[i] - 1));
                assertThat(h.offer("a1")).as("still backing off after failure %s", i + 1).isZero();
                h.advance(Duration.ofMillis(1));
            }
        }
        JsonNode s = h.service("web");
        assertThat(s.get("status").asText()).isEqualTo("FAILED");
        assertThat(s.get("reason").asText()).contains("crash loop: 4 consecutive failures").contains("web.1.4");
        h.advance(Duration.ofMinutes(5));
        assertThat(h.offer("a1")).isZero();
    }

    @Test
    void scalingDownKillsTheLeastHealthyThenTheYoungest() {
        h.deploy(web(3, ""));
        h.offer("a1");
        h.allHealthy();
        h.call(() -> h.manager.scale("web", 5));
        assertThat(h.offer("a2")).isEqualTo(2);
        h.status("web.1.4", TaskState.TASK_RUNNING, true);
        h.status("web.1.5", TaskState.TASK_RUNNING, false);
        h.call(() -> h.manager.scale("web", 2));
        // Unhealthy web.1.5 first, then the youngest healthy ones.
        assertThat(h.driver.killed).containsExactly("web.1.5", "web.1.4", "web.1.3");
        h.killsDone();
        assertThat(h.instances("web")).extracting(i -> i.get("id").asText()).containsExactly("web.1.1", "web.1.2");
    }

    @Test
    void aRollingDeployNeverDropsBelowMinHealthy() {
        h.deploy(web(3, ""));
        h.offer("a1");
        h.allHealthy();
        h.deploy(web(3, ",\"env\":{\"V\":\"2\"},\"upgradeStrategy\":{\"maxSurge\":1,\"minHealthy\":\"100%\",\"maxParallel\":1}"));
        int rounds = 0;
        while (h.versionCount("web", 1) > 0 || h.versionCount("web", 2) < 3 || h.healthy("web") < 3) {
            assertThat(rounds++).isLessThan(20);
            assertThat(h.instances("web").stream().filter(i -> !i.get("phase").asText().equals("KILLING")).count())
                    .as("never above instances + maxSurge").isLessThanOrEqualTo(4);
            h.offer("a2");
            assertThat(h.healthy("web")).as("healthy after launch").isGreaterThanOrEqualTo(3);
            h.allHealthy();
            assertThat(h.healthy("web")).as("healthy after health").isGreaterThanOrEqualTo(3);
            h.killsDone();
        }
        assertThat(h.instances("web")).allMatch(i -> i.get("version").asInt() == 2);
        JsonNode s = h.service("web");
        assertThat(s.get("version").asInt()).isEqualTo(2);
        assertThat(s.has("deployment")).isFalse();
        assertThat(h.read(() -> h.manager.deploymentsView()).get(0).get("state").asText()).isEqualTo("SUCCEEDED");
    }

    @Test
    void aCanaryWaitsForPromotionThenRollsTheRest() {
        h.deploy(web(3, ""));
        h.offer("a1");
        h.allHealthy();
        h.deploy(web(3, ",\"env\":{\"V\":\"2\"},\"upgradeStrategy\":{\"canaries\":1}"));
        assertThat(h.offer("a2")).isEqualTo(1);
        assertThat(h.offer("a2")).as("only one canary").isZero();
        h.allHealthy();
        assertThat(h.service("web").get("deployment").get("state").asText()).isEqualTo("WAITING_PROMOTION");
        assertThat(h.versionCount("web", 1)).isEqualTo(3);
        assertThat(h.versionCount("web", 2)).isEqualTo(1);
        h.call(() -> h.manager.promote("web"));
        for (int i = 0; i < 10 && (h.versionCount("web", 1) > 0 || h.healthy("web") < 3); i++) {
            h.killsDone();
            h.offer("a2");
            h.allHealthy();
            assertThat(h.healthy("web")).isGreaterThanOrEqualTo(3);
        }
        h.killsDone();
        assertThat(h.instances("web")).hasSize(3).allMatch(i -> i.get("version").asInt() == 2);
    }

    @Test
    void aCanaryThatFailsItsHealthCheckRollsBackByItself() {
        h.deploy(web(3, ""));
        h.offer("a1");
        h.allHealthy();
        h.deploy(web(3, ",\"env\":{\"V\":\"2\"},\"upgradeStrategy\":{\"canaries\":1,\"autoRevert\":true}"));
        h.offer("a2");
        h.status("web.2.4", TaskState.TASK_RUNNING, false);
        assertThat(h.driver.killed).containsExactly("web.2.4");
        assertThat(h.healthy("web")).isEqualTo(3);
        h.killsDone();
        JsonNode s = h.service("web");
        assertThat(s.get("version").asInt()).isEqualTo(1);
        assertThat(h.read(() -> h.manager.deploymentsView()).toString()).contains("ROLLED_BACK")
                .contains("failed its health check");
        assertThat(h.instances("web")).hasSize(3).allMatch(i -> i.get("version").asInt() == 1);
    }

    @Test
    void abortRollsBackAndTheProgressDeadlineToo() {
        h.deploy(web(2, ""));
        h.offer("a1");
        h.allHealthy();
        h.deploy(web(2, ",\"env\":{\"V\":\"2\"},\"upgradeStrategy\":{\"canaries\":1}"));
        h.offer("a2");
        h.call(() -> h.manager.abort("web"));
        assertThat(h.driver.killed).containsExactly("web.2.3");
        h.killsDone();
        assertThat(h.service("web").get("version").asInt()).isEqualTo(1);
        // A deploy whose instances never turn healthy fails at its deadline and reverts.
        h.deploy(web(2, ",\"env\":{\"V\":\"3\"},\"upgradeStrategy\":{\"progressDeadline\":\"30s\",\"autoRevert\":true}"));
        h.offer("a2");
        h.advance(Duration.ofSeconds(29));
        assertThat(h.service("web").get("deployment").get("toVersion").asInt()).isEqualTo(3);
        h.advance(Duration.ofSeconds(1));
        assertThat(h.read(() -> h.manager.deploymentsView()).toString()).contains("progress deadline");
        h.killsDone();
        assertThat(h.instances("web")).hasSize(2).allMatch(i -> i.get("version").asInt() == 1);
    }

    @Test
    void aRollbackGoesToThePreviousVersionAtTheCurrentCount() {
        h.deploy(web(2, ""));
        h.offer("a1");
        h.allHealthy();
        h.deploy(web(2, ",\"env\":{\"V\":\"2\"}"));
        for (int i = 0; i < 10 && h.versionCount("web", 1) > 0; i++) {
            h.offer("a2");
            h.allHealthy();
            h.killsDone();
        }
        h.call(() -> h.manager.scale("web", 3));
        h.offer("a2");
        h.allHealthy();
        JsonNode back = h.call(() -> h.manager.rollback("web"));
        assertThat(back.get("version").asInt()).isEqualTo(1);
        for (int i = 0; i < 10 && (h.versionCount("web", 2) > 0 || h.healthy("web") < 3); i++) {
            h.offer("a3");
            h.allHealthy();
            h.killsDone();
        }
        assertThat(h.instances("web")).hasSize(3).allMatch(i -> i.get("version").asInt() == 1);
        assertThat(h.service("web").get("instances").asInt()).isEqualTo(3);
    }

    @Test
    void constraintsPlaceOnePerHostAndSpreadOverRacks() {
        h.deploy("{\"id\":\"u\",\"cmd\":\"x\",\"instances\":2,\"mem\":32,\"constraints\":[[\"hostname\",\"UNIQUE\"]]}");
        h.offers(Harness.offer("o1", "a1", "h1", "cpus:8;mem:8192", null));
        assertThat(h.driver.launched).hasSize(1);
        h.offers(Harness.offer("o2", "a1", "h1", "cpus:8;mem:8192", null));
        assertThat(h.driver.launched).as("h1 holds one already").hasSize(1);
        h.offers(Harness.offer("o3", "a2", "h2", "cpus:8;mem:8192", null));
        assertThat(h.driver.launched).hasSize(2);

        // The racks are known (their offers declined: nothing wanted them) before the deploy.
        h.offers(Harness.offer("o01", "b1", "hb1", "cpus:1;mem:100", "rack:r1"),
                Harness.offer("o02", "b2", "hb2", "cpus:1;mem:100", "rack:r2"),
                Harness.offer("o03", "b3", "hb3", "cpus:1;mem:100", "rack:r3"));
        h.deploy("{\"id\":\"g\",\"cmd\":\"x\",\"instances\":4,\"mem\":32,\"constraints\":[[\"rack\",\"GROUP_BY\"],"
                + "[\"rack\",\"LIKE\",\"r[12]\"]]}");
        h.offers(Harness.offer("o4", "b1", "hb1", "cpus:8;mem:8192", "rack:r1"),
                Harness.offer("o5", "b2", "hb2", "cpus:8;mem:8192", "rack:r2"),
                Harness.offer("o6", "b3", "hb3", "cpus:8;mem:8192", "rack:r3"));
        Map<String, Long> perAgent = h.driver.launched.stream().filter(t -> t.getName().equals("g"))
                .collect(Collectors.groupingBy(t -> t.getAgentId().getValue(), Collectors.counting()));
        // r3 is ruled out by LIKE; four instances spread two and two over r1 and r2.
        assertThat(perAgent).containsEntry("b1", 2L).containsEntry("b2", 2L);
    }

    @Test
    void aDrainingAgentsInstancesMoveElsewhereBeforeItsWindow() {
        h.deploy(web(2, ""));
        h.offer("a1");
        h.allHealthy();
        long start = h.clock.millis() + 120_000;
        h.settle(() -> h.manager.maintenance(List.of(MaintenanceWindow.newBuilder()
                .addAgentIds(AgentID.newBuilder().setValue("a1")).setStartTime(start / 1000.0).build())));
        assertThat(h.driver.killed).as("nothing killed before replacements are healthy").isEmpty();
        assertThat(h.offer("a1")).as("no new instance on the draining agent").isZero();
        assertThat(h.offer("a2")).isEqualTo(2);
        h.allHealthy();
        assertThat(h.driver.killed).containsExactlyInAnyOrder("web.1.1", "web.1.2");
        assertThat(h.healthy("web")).isEqualTo(2);
    }

    @Test
    void theDrainDeadlineKillsWhatIsLeft() {
        h.deploy(web(1, ""));
        h.offer("a1");
        h.allHealthy();
        long start = h.clock.millis() + 60_000;
        h.settle(() -> h.manager.maintenance(List.of(MaintenanceWindow.newBuilder()
                .addAgentIds(AgentID.newBuilder().setValue("a1")).setStartTime(start / 1000.0).build())));
        h.advance(Duration.ofSeconds(50));
        assertThat(h.driver.killed).isEmpty();
        h.advance(Duration.ofSeconds(10));
        assertThat(h.driver.killed).containsExactly("web.1.1");
    }

    @Test
    void aSuccessorRecoversFromTheStoreAndResumesTheDeployment() {
        h.deploy(web(2, ""));
        h.offer("a1");
        h.allHealthy();
        h.deploy(web(2, ",\"env\":{\"V\":\"2\"}"));
        h.offer("a2");
        h.status("web.2.3", TaskState.TASK_RUNNING, true);
        // The leader dies here; a successor starts from the same store.
        Registry store = h.store;
        try (Harness next = new Harness(store)) {
            assertThat(next.driver.reconciled.get(0)).extracting(t -> t.getTaskId().getValue())
                    .containsExactlyInAnyOrder("web.1.1", "web.1.2", "web.2.3");
            assertThat(next.service("web").get("deployment").get("toVersion").asInt()).isEqualTo(2);
            // Nothing acts before the master answers about the recovered instances.
            assertThat(next.offer("a3")).isZero();
            for (String id : List.of("web.1.1", "web.1.2", "web.2.3")) {
                io.mezzo.proto.v1.TaskStatus s = io.mezzo.proto.v1.TaskStatus.newBuilder()
                        .setTaskId(io.mezzo.proto.v1.TaskID.newBuilder().setValue(id)).setState(TaskState.TASK_RUNNING)
                        .setHealthy(true).setAgentId(AgentID.newBuilder().setValue("a")).build();
                next.settle(() -> next.manager.update(s));
            }
            assertThat(next.driver.killed).hasSize(1);
            assertThat(next.offer("a3")).isEqualTo(1);
            assertThat(next.driver.launched.get(0).getTaskId().getValue()).as("instance numbers continue").isEqualTo("web.2.4");
        }
    }

    @Test
    void aRemovedFrameworkIsForgottenButItsServicesStay() {
        h.deploy(web(2, ""));
        h.offer("a1");
        assertThat(h.store.readAll().get(ServiceManager.FRAMEWORK)).containsKey("id");
        boolean[] told = {false};
        h.settle(() -> h.manager.frameworkRemoved(() -> told[0] = true));
        assertThat(told[0]).isTrue();
        assertThat(h.store.readAll().getOrDefault(ServiceManager.INSTANCES, java.util.Map.of())).isEmpty();
        assertThat(h.store.readAll().getOrDefault(ServiceManager.FRAMEWORK, java.util.Map.of())).isEmpty();
        assertThat(h.store.readAll().get(ServiceManager.SERVICES)).containsKey("web");
    }

    @Test
    void refusalsSaySpecificallyWhy() {
        h.offer("a1");
        assertThatThrownBy(() -> h.deploy(web(1, ",\"cpus\":64").replace("\"cpus\":0.5,", "")))
                .isInstanceOf(ApiException.class).hasMessageContaining("no agent can hold one instance")
                .hasMessageContaining("cpus 8");
        assertThatThrownBy(() -> h.call(() -> h.manager.promote("nope"))).hasMessageContaining("no service 'nope'");
        h.deploy(web(1, ""));
        assertThatThrownBy(() -> h.call(() -> h.manager.promote("web")))
                .hasMessageContaining("no deployment waiting in its canary phase");
        JsonNode plan = h.call(() -> h.manager.deploy(DefinitionJson.parse(web(4, ",\"env\":{\"V\":\"2\"}")), true));
        assertThat(plan.get("plan").asText()).contains("from version 1 to 2");
        assertThat(h.service("web").get("version").asInt()).as("a plan changes nothing").isEqualTo(1);
    }
}
