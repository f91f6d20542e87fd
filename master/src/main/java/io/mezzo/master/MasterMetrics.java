package io.mezzo.master;

import io.mezzo.common.loop.EventLoop;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskState;
import io.prometheus.metrics.core.datapoints.Timer;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Every metric of a master, in one place: what {@code GET /metrics} prints (Prometheus text
 * format, names under {@code mezzo_master_}). The list, with labels and their cardinality, is in
 * docs/operations.md; keep both in step.
 *
 * <p>Two kinds of metric live here:
 *
 * <ul>
 *   <li>Counters and histograms of events, bumped with one call where the event happens (the
 *       managers hold this object). They are thread-safe; managers call them on the loop, the gRPC
 *       interceptor on gRPC threads.
 *   <li>Gauges of state (resources, agents, frameworks and tasks by state, failover timings), read
 *       at scrape time from the last {@link StateSnapshot} the loop published: a scrape never runs
 *       on, or waits for, the event loop.
 * </ul>
 *
 * <p>Invariant: every label takes its values from a bounded set (an enum, a resource name, a
 * configured role, a gRPC method of our own services); no label carries an id.
 *
 * <p>Owner: {@link Master} (one registry per master, so that several masters in one JVM, as in
 * tests, do not mix). Thread-safe.
 */
public final class MasterMetrics {

    /** Seconds: 0.5 ms to 10 s. */
    private static final double[] LATENCY_BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private volatile Supplier<StateSnapshot> snapshot = () -> StateSnapshot.EMPTY;
    /** From the last election to its first offer; NaN until then. Written on the loop. */
    private volatile double firstOfferSeconds = Double.NaN;
    private volatile boolean awaitingFirstOffer;

    private final Counter taskTransitions = Counter.builder()
            .name("mezzo_master_task_transitions_total")
            .help("Task state changes the master saw or made, by new state and reason")
            .labelNames("state", "reason")
            .register(registry);
    private final Counter offers = Counter.builder()
            .name("mezzo_master_offers_total")
            .help("Offers by outcome: sent, accepted, declined, rescinded (by the master or an offer timeout)")
            .labelNames("outcome")
            .register(registry);
    private final Histogram allocationCycle = Histogram.builder()
            .name("mezzo_master_allocation_cycle_seconds")
            .help("Duration of allocation passes (full or incremental)")
            .classicUpperBounds(LATENCY_BUCKETS)
            .labelNames("kind")
            .register(registry);
    private final Histogram offersPerCycle = Histogram.builder()
            .name("mezzo_master_offers_per_cycle")
            .help("Offers made by one allocation pass")
            .classicUpperBounds(0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
            .register(registry);
    private final Histogram eventLatency = Histogram.builder()
            .name("mezzo_master_event_queue_seconds")
            .help("Time an event waited in the master's event-loop queue before it ran")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Histogram eventDuration = Histogram.builder()
            .name("mezzo_master_event_run_seconds")
            .help("Time one event ran on the master's event loop")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Histogram registryWrite = Histogram.builder()
            .name("mezzo_master_registry_write_seconds")
            .help("Latency of registry writes (one batch of operations)")
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Counter registryWriteFailures = Counter.builder()
            .name("mezzo_master_registry_write_failures_total")
            .help("Registry writes that failed (each one ends the master's leadership)")
            .register(registry);
    private final Counter elections = Counter.builder()
            .name("mezzo_master_elections_total")
            .help("Times this master was elected leader")
            .register(registry);
    private final Counter grpcStarted = Counter.builder()
            .name("mezzo_master_grpc_calls_started_total")
            .help("gRPC calls started, by service and method (streams count when they open)")
            .labelNames("service", "method")
            .register(registry);
    private final Counter grpcCalls = Counter.builder()
            .name("mezzo_master_grpc_calls_total")
            .help("gRPC calls completed, by service, method and status code (streams count when they close)")
            .labelNames("service", "method", "code")
            .register(registry);
    private final Counter snapshotsPublished = Counter.builder()
            .name("mezzo_master_state_snapshots_total")
            .help("State snapshots the event loop published for the read-only views and these gauges")
            .register(registry);

    /** A master's metrics with no state yet (every gauge reads an empty snapshot). */
    public MasterMetrics() {
        GaugeWithCallback.builder()
                .name("mezzo_master_resources")
                .help("Scalar resources of registered and draining agents: total, used (by tasks) and offered")
                .labelNames("kind", "resource")
                .callback(cb -> {
                    StateSnapshot s = snapshot.get();
                    scalars(s.state().getTotalResourcesList(), (name, v) -> cb.call(v, "total", name));
                    scalars(s.state().getUsedResourcesList(), (name, v) -> cb.call(v, "used", name));
                    scalars(s.state().getOfferedResourcesList(), (name, v) -> cb.call(v, "offered", name));
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_role_resources")
                .help("Scalar resources by role: allocated (held by the role's tasks and offers), offered, reserved")
                .labelNames("role", "kind", "resource")
                .callback(cb -> {
                    for (RoleView role : snapshot.get().roles().getRolesList()) {
                        scalars(role.getAllocatedList(), (name, v) -> cb.call(v, role.getRole(), "allocated", name));
                        scalars(role.getOfferedList(), (name, v) -> cb.call(v, role.getRole(), "offered", name));
                        scalars(role.getReservedList(), (name, v) -> cb.call(v, role.getRole(), "reserved", name));
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_agents")
                .help("Agents known to the leader, by state")
                .labelNames("state")
                .callback(cb -> {
                    StateSnapshot s = snapshot.get();
                    for (AgentView.State state : AgentView.State.values()) {
                        if (state != AgentView.State.UNRECOGNIZED && state.getNumber() != 0) {
                            cb.call(s.agentsIn(state), state.name().toLowerCase());
                        }
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_frameworks")
                .help("Frameworks known to the leader, by state")
                .labelNames("state")
                .callback(cb -> {
                    StateSnapshot s = snapshot.get();
                    for (FrameworkView.State state : FrameworkView.State.values()) {
                        if (state != FrameworkView.State.UNRECOGNIZED && state.getNumber() != 0) {
                            cb.call(s.frameworksIn(state), state.name().toLowerCase());
                        }
                    }
                })
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_tasks")
                .help("Live tasks known to the leader, by state")
                .labelNames("state")
                .callback(cb -> snapshot.get().tasksByState().forEach((state, n) -> cb.call(n, state.name())))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_outstanding_offers")
                .help("Offers sent and not yet accepted, declined or rescinded")
                .callback(cb -> cb.call(snapshot.get().state().getOffersCount()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_leader")
                .help("1 while this master leads and acts, else 0")
                .callback(cb -> cb.call(snapshot.get().leading() ? 1 : 0))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_epoch")
                .help("Epoch of this master's leadership term (0 before it is elected)")
                .callback(cb -> cb.call(snapshot.get().state().getMasterInfo().getEpoch()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_failover_first_offer_seconds")
                .help("From this master's election to its first offer (NaN until it made one)")
                .callback(cb -> cb.call(firstOfferSeconds))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_failover_agents_reregistered_seconds")
                .help("From this master's election until no recovered agent was left to re-register (NaN until then)")
                .callback(cb -> cb.call(snapshot.get().electedToAgentsBackSeconds()))
                .register(registry);
        GaugeWithCallback.builder()
                .name("mezzo_master_state_snapshot_age_seconds")
                .help("Age of the state snapshot the views and gauges read")
                .callback(cb -> cb.call(snapshot.get().ageSeconds()))
                .register(registry);
    }

    /** Reads gauges of state from {@code current} (the published snapshot) from now on. */
    void readStateFrom(Supplier<StateSnapshot> current) {
        this.snapshot = current;
    }

    /** Reports the depth of the loop's queue. */
    void watchQueueOf(EventLoop loop) {
        IntSupplier depth = loop::queueSize;
        GaugeWithCallback.builder()
                .name("mezzo_master_event_queue_depth")
                .help("Events waiting in the master's event-loop queue")
                .callback(cb -> cb.call(depth.getAsInt()))
                .register(registry);
    }

    /** One event ran on the loop after waiting {@code waitedNanos} in its queue. */
    void eventRan(long waitedNanos, long ranNanos) {
        eventLatency.observe(waitedNanos / 1e9);
        eventDuration.observe(ranNanos / 1e9);
    }

    // ------------------------------------------------------------------------------------------
    // Events (one call where each happens)
    // ------------------------------------------------------------------------------------------

    void taskTransition(TaskState state, StatusReason reason) {
        taskTransitions.labelValues(state.name(), reason.name()).inc();
    }

    /** {@code n} offers went out, {@code sinceElectionMillis} after this term began. */
    void offersSent(int n, long sinceElectionMillis) {
        offers.labelValues("sent").inc(n);
        if (awaitingFirstOffer) {
            awaitingFirstOffer = false;
            firstOfferSeconds = sinceElectionMillis / 1000.0;
        }
    }

    double electedToFirstOfferSeconds() {
        return firstOfferSeconds;
    }

    void offersAccepted(int n) {
        offers.labelValues("accepted").inc(n);
    }

    void offerDeclined() {
        offers.labelValues("declined").inc();
    }

    void offerRescinded() {
        offers.labelValues("rescinded").inc();
    }

    /**
     * A duration being measured: {@link #done} records it with an outcome. The histogram's own
     * timer reads the monotonic clock: a measurement, never a decision, so the loop side stays on
     * the injected clock for everything it decides.
     */
    interface Timing {
        /** Records the duration; {@code outcome} is what the measured thing produced. */
        void done(int outcome);
    }

    /** Times an allocation pass; {@code done(offers made)}. */
    Timing allocationCycle(boolean full) {
        Timer timer = allocationCycle.labelValues(full ? "full" : "incremental").startTimer();
        return offersMade -> {
            timer.observeDuration();
            offersPerCycle.observe(offersMade);
        };
    }

    /** Times a registry write; {@code done(1)} when it succeeded, {@code done(0)} when it failed. */
    Timing registryWrite() {
        Timer timer = registryWrite.startTimer();
        return ok -> {
            timer.observeDuration();
            if (ok == 0) {
                registryWriteFailures.inc();
            }
        };
    }

    /** This master was elected: failover timings count from now. */
    void elected() {
        elections.inc();
        firstOfferSeconds = Double.NaN;
        awaitingFirstOffer = true;
    }

    void grpcCallStarted(String service, String method) {
        grpcStarted.labelValues(service, method).inc();
    }

    void grpcCall(String service, String method, String code) {
        grpcCalls.labelValues(service, method, code).inc();
    }

    void snapshotPublished() {
        snapshotsPublished.inc();
    }

    // ------------------------------------------------------------------------------------------
    // Exposition
    // ------------------------------------------------------------------------------------------

    /** The content type of {@link #scrape()}. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** Every metric, in the Prometheus text format (what {@code GET /metrics} answers). */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private interface ScalarSink {
        void accept(String name, double value);
    }

    /** Scalar resources summed by name (reserved and unreserved parts of one name add up). */
    private static void scalars(List<Resource> resources, ScalarSink sink) {
        java.util.Map<String, Double> byName = new java.util.TreeMap<>();
        for (Resource r : resources) {
            if (r.hasScalar()) {
                byName.merge(r.getName(), r.getScalar().getMilli() / 1000.0, Double::sum);
            }
        }
        byName.forEach(sink::accept);
    }
}
