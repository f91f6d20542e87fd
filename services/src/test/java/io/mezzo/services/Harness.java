package io.mezzo.services;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.ha.registry.InMemoryRegistry;
import io.mezzo.ha.registry.Registry;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A manager on a real loop with a manual clock, the in-memory store and a fake driver: tests send
 * offers and updates as values, advance the clock and settle, then read what was asked of the driver.
 */
final class Harness implements AutoCloseable {

    final ManualClock clock = new ManualClock(1_000_000);
    final RecordingFaultHandler faults = new RecordingFaultHandler();
    final EventLoop loop = new EventLoop("services-test", clock, faults);
    final Registry store;
    final FakeDriver driver = new FakeDriver();
    final List<String> storeFailures = new ArrayList<>();
    final ServiceManager manager;
    private int offers;

    Harness() {
        this(new InMemoryRegistry());
    }

    Harness(Registry store) {
        this.store = store;
        manager = new ServiceManager(loop, store, storeFailures::add);
        manager.driver(driver);
        settle(() -> {
            manager.recover(store.readAll());
            manager.subscribed(FrameworkID.newBuilder().setValue("fw-1").build());
        });
    }

    void settle(Runnable r) {
        loop.append(r);
        settle();
    }

    void settle() {
        try {
            for (int i = 0; i < 3; i++) {
                loop.barrier().get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    void advance(Duration d) {
        clock.advance(d);
        settle();
    }

    <T> T call(Supplier<CompletableFuture<T>> op) {
        try {
            T t = manager.call(op).get(10, TimeUnit.SECONDS);
            settle();
            return t;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new AssertionError(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    <T> T read(Supplier<T> view) {
        try {
            return loop.call(view).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    JsonNode service(String id) {
        return read(() -> manager.serviceView(id));
    }

    void deploy(String json) {
        call(() -> manager.deploy(DefinitionJson.parse(json), false));
    }

    static Offer offer(String id, String agent, String host, String resources, String attributes) {
        Offer.Builder b = Offer.newBuilder().setId(OfferID.newBuilder().setValue(id))
                .setAgentId(AgentID.newBuilder().setValue(agent)).setHostname(host)
                .addAllResources(ResourceText.parse(resources).toProto("*"));
        if (attributes != null) {
            for (Attribute a : ResourceText.parseAttributes(attributes)) {
                b.addAttributes(a);
            }
        }
        return b.build();
    }

    /** Sends one big offer from each agent; returns how many tasks were launched by it. */
    int offer(String... agents) {
        int before = driver.launched.size();
        List<Offer> list = new ArrayList<>();
        for (String a : agents) {
            list.add(offer("o" + ++offers, a, a + ".host", "cpus:8;mem:8192;disk:1024;ports:[31000-31099]", null));
        }
        settle(() -> manager.offers(list));
        return driver.launched.size() - before;
    }

    void offers(Offer... list) {
        settle(() -> manager.offers(List.of(list)));
    }

    List<TaskInfo> launchedSince(int index) {
        return driver.launched.subList(index, driver.launched.size());
    }

    void status(String task, TaskState state, Boolean healthy) {
        TaskInfo t = driver.launched.stream().filter(x -> x.getTaskId().getValue().equals(task)).findFirst().orElseThrow();
        TaskStatus.Builder s = TaskStatus.newBuilder().setTaskId(TaskID.newBuilder().setValue(task)).setState(state)
                .setAgentId(t.getAgentId().getValue().isEmpty() ? AgentID.newBuilder().setValue("unknown").build() : t.getAgentId());
        if (healthy != null) {
            s.setHealthy(healthy);
        }
        settle(() -> manager.update(s.build()));
    }

    /** Every launched task not yet ended is reported running and healthy. */
    void allHealthy() {
        for (TaskInfo t : List.copyOf(driver.launched)) {
            if (live(t.getTaskId().getValue())) {
                status(t.getTaskId().getValue(), TaskState.TASK_RUNNING, true);
            }
        }
    }

    /** Every kill asked for and not yet answered ends TASK_KILLED. */
    void killsDone() {
        for (String k : List.copyOf(driver.killed)) {
            if (live(k)) {
                TaskStatus s = TaskStatus.newBuilder().setTaskId(TaskID.newBuilder().setValue(k)).setState(TaskState.TASK_KILLED)
                        .setAgentId(AgentID.newBuilder().setValue("a")).build();
                settle(() -> manager.update(s));
            }
        }
    }

    boolean live(String task) {
        JsonNode list = read(() -> {
            List<JsonNode> all = new ArrayList<>();
            manager.listView().forEach(s -> manager.serviceView(s.get("id").asText()).get("instanceList").forEach(all::add));
            return all;
        }).stream().filter(i -> i.get("id").asText().equals(task)).findFirst().orElse(null);
        return list != null;
    }

    /** Instances of {@code service}: id, version, phase, healthy. */
    List<JsonNode> instances(String service) {
        List<JsonNode> out = new ArrayList<>();
        service(service).get("instanceList").forEach(out::add);
        return out;
    }

    long healthy(String service) {
        return instances(service).stream().filter(i -> i.get("phase").asText().equals("RUNNING")
                && i.get("healthy").asBoolean(false)).count();
    }

    long versionCount(String service, int version) {
        return instances(service).stream().filter(i -> i.get("version").asInt() == version
                && !i.get("phase").asText().equals("KILLING")).count();
    }

    @Override
    public void close() {
        loop.close();
        assertThat(faults.faults()).isEmpty();
        assertThat(storeFailures).isEmpty();
    }
}
