package io.mezzo.services;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mezzo.ha.registry.FencedException;
import io.mezzo.proto.v1.TaskState;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Write, persist, apply, act: with a store whose writes are held, nothing is seen, launched, killed or
 * answered before the write is stored, later events wait for it, and a failed write leaves memory as
 * it was and ends the leadership.
 */
@Timeout(30)
class PersistThenApplyTest {

    private final GatedRegistry store = new GatedRegistry();
    private final Harness h = new Harness(store);

    @AfterEach
    void close() {
        h.close();
    }

    private static final String WEB = "{\"id\":\"web\",\"cmd\":\"./server\",\"instances\":2,\"cpus\":0.5,\"mem\":\"64MB\"}";

    private CompletableFuture<ObjectNode> deploy(String json) {
        return h.manager.call(() -> h.manager.deploy(DefinitionJson.parse(json), false));
    }

    private int serviceCount() {
        return h.read(() -> h.manager.listView().size());
    }

    private Map<String, byte[]> stored(String collection) {
        return store.readAll().getOrDefault(collection, Map.of());
    }

    @Test
    void theAnswerAndTheStateWaitForTheWriteAndLaterEventsWaitToo() throws Exception {
        store.hold();
        CompletableFuture<ObjectNode> answer = deploy(WEB);
        h.settle();
        assertThat(store.held()).isEqualTo(1);
        assertThat(answer).isNotDone();
        assertThat(serviceCount()).as("memory waits for the store").isZero();
        // An offer during the write waits for it: then it sees the stored service.
        assertThat(h.offer("a1")).isZero();
        assertThat(store.held()).as("the offer did not write").isEqualTo(1);
        store.release();
        assertThat(answer.get(10, TimeUnit.SECONDS).get("action").asText()).isEqualTo("create");
        h.settle();
        assertThat(serviceCount()).isEqualTo(1);
        assertThat(h.driver.launched).as("the waiting offer ran after the write").hasSize(2);
        assertThat(stored(ServiceManager.INSTANCES)).hasSize(2);
    }

    @Test
    void aLaunchWaitsForItsInstanceRecord() throws Exception {
        deploy(WEB).get(10, TimeUnit.SECONDS);
        h.settle();
        store.hold();
        assertThat(h.offer("a1")).isZero();
        assertThat(store.held()).isEqualTo(1);
        assertThat(h.instances("web")).as("no instance in memory before its record is stored").isEmpty();
        assertThat(stored(ServiceManager.INSTANCES)).isEmpty();
        store.release();
        h.settle();
        assertThat(h.driver.launched).hasSize(2);
        assertThat(h.instances("web")).hasSize(2);
        assertThat(stored(ServiceManager.INSTANCES)).hasSize(2);
    }

    @Test
    void aFailedWriteLeavesMemoryAsItWasAndStepsDown() throws Exception {
        deploy(WEB).get(10, TimeUnit.SECONDS);
        h.offer("a1");
        h.allHealthy();
        int launched = h.driver.launched.size();
        int writes = store.writes();
        store.hold();
        CompletableFuture<ObjectNode> scale = h.manager.call(() -> h.manager.scale("web", 5));
        h.settle();
        // Waits behind the write, then is refused with it.
        CompletableFuture<ObjectNode> restart = h.manager.call(() -> h.manager.restart("web"));
        h.status("web.1.1", TaskState.TASK_FAILED, null);
        h.settle();
        assertThat(store.held()).isEqualTo(1);
        store.fail(new FencedException("fenced: a newer leader wrote"));
        h.settle();
        assertThat(scale).failsWithin(10, TimeUnit.SECONDS).withThrowableOfType(ExecutionException.class)
                .havingCause().isInstanceOf(ApiException.class).withMessageContaining("could not store the change");
        assertThat(((ApiException) failure(scale)).status()).isEqualTo(503);
        assertThat(((ApiException) failure(restart)).status()).isEqualTo(503);
        assertThat(h.storeFailures).hasSize(1).allMatch(r -> r.contains("fenced"));
        assertThat(h.service("web").get("instances").asInt()).as("memory as it was").isEqualTo(2);
        assertThat(h.service("web").get("version").asInt()).isEqualTo(1);
        assertThat(h.healthy("web")).as("the waiting update was not applied either").isEqualTo(2);
        assertThat(h.driver.launched).hasSize(launched);
        assertThat(h.driver.killed).isEmpty();
        assertThat(store.writes()).as("nothing more written after the failure").isEqualTo(writes + 1);
        h.storeFailures.clear();
    }

    private static Throwable failure(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
