package io.mezzo.services;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.task.TaskStates;
import io.mezzo.ha.registry.Registry;
import io.mezzo.ha.registry.RegistryOp;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.SchedulerDriver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The service scheduler's core: every service, deployment and instance, and the rules that keep each
 * service at its instance count, roll new versions out (rolling, canary, rollback), respect
 * constraints and drain notices, and restart failed instances with backoff.
 *
 * <pre>
 *   API call / offer / status update / maintenance (appended by the edges)
 *        |
 *        v
 *   compute the change -> write it to the fenced store -> install it -> act (launch, kill) -> answer
 *   (WriteGate: one transaction per event)
 *        |
 *        v (when idle) step: per service, plan() -> kills now, launches on the next offers; revive/suppress
 * </pre>
 *
 * <p>Invariants kept here:
 *
 * <ol>
 *   <li>A task is launched only after its instance record is in the store, so a successor knows every
 *       task this scheduler may have started.
 *   <li>During a deployment a healthy instance is killed only while at least {@code minHealthy}
 *       other instances stay healthy; new instances not yet healthy never exceed {@code maxParallel};
 *       live instances never exceed {@code instances + maxSurge}.
 *   <li>A failed instance is replaced no sooner than its backoff allows; {@code crashLoopLimit}
 *       consecutive failures mark the service FAILED and stop its launches.
 *   <li>After a restart, nothing is launched or killed for a service until the master has answered
 *       about its recovered instances (or 60 s passed).
 * </ol>
 *
 * <p>Write, persist, apply, act (STYLE.md rule 6). Every event (API call, offer, status update,
 * maintenance, timer, step) runs as one transaction ({@link #txn}): its handler computes the change on
 * the state, and the registry operations it needs are collected, not written. If there are any, the
 * state is put back as it was before the event, the operations are written as one batch through the
 * fenced store, and only when that write succeeded is the changed state installed and are the
 * actions (launches, kills, answers) taken. While a write is in flight, every further event that may
 * change state waits, in order, until it ended, so nothing is decided on state that is not yet
 * stored; views read the last stored state meanwhile. A failed write (another leader fenced this
 * one) leaves the state as it was, fails the waiting answer with 503 and goes to {@code
 * storeFailed}, which ends this leadership.
 *
 * <p>Thread: every method runs on {@code loop} (callers from other threads use {@link #call}).
 * Owner: the daemon ({@link ServicesDaemon}) while it leads.
 */
public final class ServiceManager {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceManager.class);
    static final String SERVICES = "services";
    static final String DEPLOYMENTS = "deployments";
    static final String INSTANCES = "instances";
    static final String FRAMEWORK = "framework";
    /** An instance healthy this long counts as stable: a failure after it starts the failure count over. */
    static final long STABLE_MILLIS = 10_000;
    /** Longest wait for the master's answer about recovered instances. */
    static final long RECOVERY_MILLIS = 60_000;
    private static final Filters SHORT_REFUSAL = Filters.newBuilder().setRefuseSeconds(1).build();
    private static final Filters LONG_REFUSAL = Filters.newBuilder().setRefuseSeconds(30).build();

    private final EventLoop loop;
    private SchedulerDriver driver;

    // Loop thread only.
    private TreeMap<String, ServiceState> services = new TreeMap<>();
    private Map<String, Deployment> deployments = new TreeMap<>();
    private Map<String, Deployment> pastDeployments = new LinkedHashMap<>();
    private Map<String, Instance> instances = new LinkedHashMap<>();
    private Map<String, AgentView> agents = new TreeMap<>();
    /** The master's drain notices (soft). */
    private Drains drains = new Drains();
    private String frameworkId;
    private long recoveryUntil;
    private boolean suppressed;
    private boolean subscribed;

    /** Every event runs through it: see "Write, persist, apply" above. */
    private final WriteGate<State> gate;

    /**
     * @param storeFailed told (on the loop) when a store write fails: leadership is over
     */
    public ServiceManager(EventLoop loop, Registry store, Consumer<String> storeFailed) {
        this.loop = loop;
        this.gate = new WriteGate<>(loop, store, this::copyState, this::currentState, this::install, storeFailed);
    }

    /** Sets the driver calls go to (before the client starts). */
    public void driver(SchedulerDriver driver) {
        this.driver = driver;
    }

    /**
     * Runs {@code op} on the loop as one transaction; the future completes with its answer after its
     * store write succeeded (or with the error: a refused call changes nothing).
     */
    public <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> op) {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.append(() -> txn(() -> op.get().whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e instanceof java.util.concurrent.CompletionException c ? c.getCause() : e);
            } else {
                result.complete(v);
            }
        }), result::completeExceptionally));
        return result;
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Loads the store (on the loop, once, before the client starts); returns the framework id to take
     * over, if one was stored.
     */
    public Optional<String> recover(Map<String, Map<String, byte[]>> records) {
        records.getOrDefault(SERVICES, Map.of()).values().forEach(b -> {
            ServiceState s = ServiceState.fromJson(json(b));
            services.put(s.id, s);
        });
        records.getOrDefault(DEPLOYMENTS, Map.of()).values().forEach(b -> {
            Deployment d = Deployment.fromJson(json(b));
            deployments.put(d.service, d);
        });
        records.getOrDefault(INSTANCES, Map.of()).values().forEach(b -> {
            Instance i = Instance.fromJson(json(b));
            instances.put(i.id, i);
        });
        byte[] fw = records.getOrDefault(FRAMEWORK, Map.of()).get("id");
        frameworkId = fw == null ? null : new String(fw, StandardCharsets.UTF_8);
        recoveryUntil = now() + RECOVERY_MILLIS;
        loop.schedule("recovery-timeout", Duration.ofMillis(RECOVERY_MILLIS), () -> txn(() -> {
            instances.values().forEach(i -> i.recovered = false);
            requestStep();
        }));
        LOG.info("Recovered {} services, {} deployments, {} instances, framework {}", services.size(),
                deployments.size(), instances.size(), frameworkId == null ? "(new)" : frameworkId);
        deployments.values().stream().filter(Deployment::active).forEach(d -> LOG.info("Resuming deployment {}", d));
        return Optional.ofNullable(frameworkId);
    }

    // ---------------------------------------------------------------- scheduler callbacks

    /** The framework is subscribed: store its id, reconcile every instance. */
    public void subscribed(FrameworkID id) {
        txn(() -> subscribedNow(id));
    }

    private void subscribedNow(FrameworkID id) {
        subscribed = true;
        suppressed = false;
        List<Call.Reconcile.Task> tasks = new ArrayList<>();
        for (Instance i : instances.values()) {
            tasks.add(Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue(i.id))
                    .setAgentId(AgentID.newBuilder().setValue(i.agentId)).build());
        }
        if (!tasks.isEmpty()) {
            driver.reconcile(tasks);
        }
        // Kills asked for before a restart or a lost connection: ask again (a kill is idempotent).
        instances.values().stream().filter(i -> i.phase == Instance.Phase.KILLING).forEach(i -> driver.kill(
                TaskID.newBuilder().setValue(i.id).build(), AgentID.newBuilder().setValue(i.agentId).build(), null));
        // Implicit too: a task the master knows and this scheduler does not is an orphan to kill.
        driver.reconcile(List.of());
        LOG.info("Subscribed as framework {}; reconciling {} instances", id.getValue(), tasks.size());
        if (!id.getValue().equals(frameworkId)) {
            frameworkId = id.getValue();
            persist(List.of(RegistryOp.put(FRAMEWORK, "id", frameworkId.getBytes(StandardCharsets.UTF_8))), () -> {});
        }
        requestStep();
    }

    /**
     * The master removed the framework (its failover timeout expired, or an operator tore it down):
     * every task is gone. Forgets the instances and the framework id in the store, then runs {@code
     * then}; the services and their deployments stay, to be launched again by the next subscription.
     */
    public void frameworkRemoved(Runnable then) {
        txn(() -> frameworkRemovedNow(then));
    }

    private void frameworkRemovedNow(Runnable then) {
        List<RegistryOp> ops = new ArrayList<>();
        instances.keySet().forEach(id -> ops.add(RegistryOp.delete(INSTANCES, id)));
        ops.add(RegistryOp.delete(FRAMEWORK, "id"));
        LOG.warn("Framework {} was removed by the master: forgetting its {} instances", frameworkId, instances.size());
        instances.clear();
        frameworkId = null;
        persist(ops, then);
    }

    /** The stream to the master is lost: offers are void, calls are not sent. */
    public void disconnected() {
        subscribed = false;
    }

    /** New offers: place wanted instances on them, decline the rest. */
    public void offers(List<Offer> offers) {
        txn(() -> offersNow(offers));
    }

    private void offersNow(List<Offer> offers) {
        for (Offer o : offers) {
            agents.put(o.getAgentId().getValue(), AgentView.from(o, agents.get(o.getAgentId().getValue())));
        }
        long now = now();
        Map<String, List<Integer>> wants = new TreeMap<>();
        for (ServiceState s : services.values()) {
            List<Integer> w = plan(s, now).launches();
            if (!w.isEmpty()) {
                wants.put(s.id, new ArrayList<>(w));
            }
        }
        List<RegistryOp> ops = new ArrayList<>();
        Map<Offer, List<Instance>> launches = OfferMatcher.match(offers, wants, services, agents, drains.agents(),
                this::placedOn, now, i -> {
                    ServiceState s = services.get(i.service);
                    instances.put(i.id, i);
                    ops.add(RegistryOp.put(INSTANCES, i.id, bytes(i.toJson())));
                    ops.add(RegistryOp.put(SERVICES, s.id, bytes(s.toJson())));
                    LOG.info("Placing instance {} of {} v{} on {} ports {}", i.id, s.id, i.version, i.hostname, i.ports);
                });
        List<OfferID> unused = new ArrayList<>();
        for (Offer offer : offers) {
            if (!launches.containsKey(offer)) {
                unused.add(offer.getId());
            }
        }
        boolean moreWanted = wants.values().stream().anyMatch(l -> !l.isEmpty());
        if (!unused.isEmpty()) {
            driver.decline(unused, moreWanted ? SHORT_REFUSAL : LONG_REFUSAL);
        }
        if (!launches.isEmpty()) {
            persist(ops, () -> launches.forEach((offer, list) -> {
                List<TaskInfo> tasks = new ArrayList<>();
                list.forEach(i -> tasks.add(InstanceTasks.task(services.get(i.service).versions.get(i.version), i)));
                driver.launch(offer, tasks.toArray(TaskInfo[]::new));
            }));
        }
        requestStep();
    }

    /** A task changed state. */
    public void update(TaskStatus status) {
        txn(() -> updateNow(status));
    }

    private void updateNow(TaskStatus status) {
        String taskId = status.getTaskId().getValue();
        Instance i = instances.get(taskId);
        TaskState state = status.getState();
        boolean over = TaskStates.isTerminal(state) || state == TaskState.TASK_UNKNOWN;
        if (i == null) {
            if (!over && !status.getAgentId().getValue().isEmpty()) {
                LOG.warn("Killing task {}: no instance record (an orphan of an earlier leader)", taskId);
                driver.kill(status.getTaskId(), status.getAgentId(), null);
            }
            return;
        }
        MDC.put("task", taskId);
        i.recovered = false;
        i.taskState = state.name();
        ServiceState s = services.get(i.service);
        long now = now();
        if (over) {
            instances.remove(taskId);
            boolean expected = i.phase == Instance.Phase.KILLING;
            LOG.info("Instance {} ended {} ({}){}", i.id, state, status.getMessage(), expected ? "" : ": unexpected");
            List<RegistryOp> ops = new ArrayList<>();
            ops.add(RegistryOp.delete(INSTANCES, i.id));
            // A launch the master never received (TASK_DROPPED: a void offer, a lost connection) is no
            // failure of the service: the instance is simply placed again.
            if (!expected && state != TaskState.TASK_DROPPED && s != null && s.status != ServiceState.Status.DELETING) {
                failed(s, i, state + (status.getMessage().isEmpty() ? "" : ": " + status.getMessage()), ops, now);
            }
            persist(ops, () -> {});
            requestStep();
            return;
        }
        if (state == TaskState.TASK_RUNNING) {
            if (i.phase == Instance.Phase.STARTING) {
                i.phase = Instance.Phase.RUNNING;
            }
            boolean checked = s != null && s.versions.containsKey(i.version) && s.versions.get(i.version).healthCheck() != null;
            Boolean healthy = Boolean.TRUE;
            if (checked) {
                healthy = status.hasHealthy() ? Boolean.valueOf(status.getHealthy()) : i.healthy;
            }
            boolean was = i.isHealthy();
            i.healthy = healthy;
            if (!was && i.isHealthy()) {
                i.healthySince = now;
                LOG.info("Instance {} is healthy", i.id);
                Deployment d = s == null ? null : deployments.get(s.id);
                if (d != null && d.active() && i.version == d.toVersion) {
                    d.lastProgressAt = now;
                    scheduleDeadline(s, d);
                }
            } else if (was && !i.isHealthy() || Boolean.FALSE.equals(healthy) && !was) {
                i.healthySince = -1;
                LOG.info("Instance {} is unhealthy", i.id);
                Deployment d = s == null ? null : deployments.get(s.id);
                if (d != null && d.active() && i.version == d.toVersion && Boolean.FALSE.equals(healthy)) {
                    failDeployment(s, d, "instance " + i.id + " failed its health check", now);
                }
            }
        } else if (state == TaskState.TASK_UNREACHABLE) {
            i.healthy = false;
        }
        requestStep();
    }

    /** The master's pending maintenance windows: instances on those agents move elsewhere first. */
    public void maintenance(List<MaintenanceWindow> windows) {
        txn(() -> maintenanceNow(windows));
    }

    private void maintenanceNow(List<MaintenanceWindow> windows) {
        drains.windows(windows, instances.values());
        drains.forEach((agent, start) -> {
            long margin = 1_000 + services.values().stream().mapToLong(s -> s.def().killGraceMillis()).max().orElse(3_000);
            loop.schedule("drain-" + agent, Duration.ofMillis(Math.max(0, start - margin - now())), () -> txn(() -> drainDeadline(agent)));
        });
        requestStep();
    }

    private void drainDeadline(String agent) {
        if (!drains.contains(agent)) {
            return;
        }
        List<Instance> left = instances.values().stream()
                .filter(i -> i.agentId.equals(agent) && i.phase != Instance.Phase.KILLING).toList();
        if (!left.isEmpty()) {
            LOG.warn("Drain deadline of agent {}: killing {} instances not yet replaced", agent, left.size());
            kill(left, "its agent drains");
        }
    }

    // ---------------------------------------------------------------- API operations

    /** Deploys (creates or updates) a service; with {@code planOnly}, only says what it would do. */
    public CompletableFuture<ObjectNode> deploy(ServiceDefinition def, boolean planOnly) {
        String error = DefinitionValidator.validate(def, agents.values());
        if (error != null) {
            throw new ApiException(422, "invalid_definition", error);
        }
        ServiceState s = services.get(def.id());
        long now = now();
        ObjectNode answer = DefinitionJson.MAPPER.createObjectNode().put("service", def.id());
        if (s == null) {
            answer.put("action", "create").put("version", 1)
                    .put("plan", "create service " + def.id() + ": launch " + def.instances() + " instances of version 1");
            if (planOnly) {
                return CompletableFuture.completedFuture(answer);
            }
            ServiceState created = new ServiceState(def.id());
            created.target = created.addVersion(def);
            services.put(created.id, created);
            LOG.info("Creating service {} with {} instances", def.id(), def.instances());
            return persisted(List.of(putService(created)), answer);
        }
        if (s.status == ServiceState.Status.DELETING) {
            throw ApiException.conflict("service " + def.id() + " is being deleted");
        }
        Deployment current = deployments.get(s.id);
        ServiceDefinition target = s.def();
        if (DefinitionJson.write(target).equals(DefinitionJson.write(def))) {
            return CompletableFuture.completedFuture(answer.put("action", "none").put("version", s.target)
                    .put("plan", "no change: version " + s.target + " is already deployed"));
        }
        if (DefinitionJson.write(target.withInstances(def.instances())).equals(DefinitionJson.write(def))) {
            answer.put("action", "scale").put("version", s.target).put("plan", "scale " + s.id + " from "
                    + target.instances() + " to " + def.instances() + " instances of version " + s.target);
            if (planOnly) {
                return CompletableFuture.completedFuture(answer);
            }
            return scaleTo(s, def.instances()).thenApply(x -> answer);
        }
        int next = s.versions.lastKey() + 1;
        int from = current != null && current.active() ? current.fromVersion : s.target;
        long running = instances.values().stream().filter(i -> i.service.equals(s.id) && i.phase != Instance.Phase.KILLING).count();
        ServiceDefinition.UpgradeStrategy u = def.upgrade();
        String how = u.canaries() > 0
                ? u.canaries() + " canaries of version " + next + " beside the old, then "
                        + (u.autoPromoteAfterMillis() >= 0 ? "promoted after " + DefinitionJson.millis(u.autoPromoteAfterMillis())
                                + " healthy" : "wait for `promote`") + ", then"
                : "";
        answer.put("action", "update").put("version", next).put("fromVersion", from)
                .put("plan", "update " + s.id + " from version " + from + " to " + next + ":" + (how.isEmpty() ? "" : " " + how)
                        + " replace " + running + " running instances with " + def.instances() + " new ones, at most "
                        + u.maxParallel() + " starting at a time, at most " + u.maxSurge() + " above " + def.instances()
                        + ", keeping at least " + u.minHealthy(def.instances()) + " healthy"
                        + (u.autoRevert() ? "; roll back by itself on failure" : ""));
        if (current != null && current.active()) {
            answer.put("supersedes", current.id);
        }
        if (planOnly) {
            return CompletableFuture.completedFuture(answer);
        }
        int version = s.addVersion(def);
        List<RegistryOp> ops = new ArrayList<>();
        if (current != null && current.active()) {
            end(current, Deployment.State.SUPERSEDED, "superseded by version " + version, ops);
        }
        startDeployment(s, from, version, u.canaries(), false, now, ops);
        if (s.status == ServiceState.Status.FAILED) {
            s.status = ServiceState.Status.ACTIVE;
            s.reason = "";
        }
        s.consecutiveFailures = 0;
        s.nextLaunchAt = 0;
        ops.add(putService(s));
        return persisted(ops, answer);
    }

    /** Sets the instance count. */
    public CompletableFuture<ObjectNode> scale(String id, int n) {
        if (n < 0 || n > DefinitionJson.MAX_INSTANCES) {
            throw new ApiException(400, "invalid_request", "instances must be 0 to " + DefinitionJson.MAX_INSTANCES);
        }
        ServiceState s = existing(id);
        if (s.def().upgrade().canaries() > n && n > 0 && deployments.get(id) != null && deployments.get(id).inCanary()) {
            throw ApiException.conflict("cannot scale below the " + s.def().upgrade().canaries() + " canaries of the running deployment");
        }
        String error = DefinitionValidator.validate(s.def().withInstances(n), agents.values());
        if (error != null) {
            throw new ApiException(422, "invalid_definition", error);
        }
        return scaleTo(s, n).thenApply(x -> DefinitionJson.MAPPER.createObjectNode().put("service", id).put("instances", n));
    }

    private CompletableFuture<Void> scaleTo(ServiceState s, int n) {
        LOG.info("Scaling service {} from {} to {} instances", s.id, s.def().instances(), n);
        s.versions.replaceAll((v, d) -> d.withInstances(n));
        if (s.status == ServiceState.Status.FAILED) {
            s.status = ServiceState.Status.ACTIVE;
            s.reason = "";
            s.consecutiveFailures = 0;
        }
        return persisted(List.of(putService(s)), null).thenApply(x -> null);
    }

    /** Replaces every instance by a new one (rolling, within the upgrade strategy). */
    public CompletableFuture<ObjectNode> restart(String id) {
        ServiceState s = existing(id);
        Deployment current = deployments.get(id);
        if (current != null && current.active()) {
            throw ApiException.conflict("deployment " + current.id + " is running; wait for it, promote or abort it");
        }
        int from = s.target;
        int version = s.addVersion(s.def());
        List<RegistryOp> ops = new ArrayList<>();
        startDeployment(s, from, version, 0, false, now(), ops);
        s.status = ServiceState.Status.ACTIVE;
        s.reason = "";
        s.consecutiveFailures = 0;
        s.nextLaunchAt = 0;
        ops.add(putService(s));
        return persisted(ops, DefinitionJson.MAPPER.createObjectNode().put("service", id).put("version", version));
    }

    /** Promotes the canaries: the rest of the instances roll. */
    public CompletableFuture<ObjectNode> promote(String id) {
        existing(id);
        Deployment d = deployments.get(id);
        if (d == null || !d.inCanary()) {
            throw ApiException.conflict("service " + id + " has no deployment waiting in its canary phase");
        }
        promoteNow(d, "operator");
        return persisted(List.of(putDeployment(d)), DefinitionJson.MAPPER.createObjectNode().put("service", id)
                .put("deployment", d.id).put("promoted", true));
    }

    /** Aborts the running deployment: rolls back to the version before it. */
    public CompletableFuture<ObjectNode> abort(String id) {
        ServiceState s = existing(id);
        Deployment d = deployments.get(id);
        if (d == null || !(d.active() || d.state == Deployment.State.FAILED)) {
            throw ApiException.conflict("service " + id + " has no running deployment to abort");
        }
        List<RegistryOp> ops = new ArrayList<>();
        Deployment back = rollBack(s, d, "aborted by operator", now(), ops);
        return persisted(ops, DefinitionJson.MAPPER.createObjectNode().put("service", id).put("deployment", back.id)
                .put("version", back.toVersion));
    }

    /** Rolls back: the running deployment (as abort), or else to the version before the current one. */
    public CompletableFuture<ObjectNode> rollback(String id) {
        ServiceState s = existing(id);
        Deployment d = deployments.get(id);
        if (d != null && (d.active() || d.state == Deployment.State.FAILED)) {
            return abort(id);
        }
        Integer previous = s.versions.lowerKey(s.target);
        if (previous == null) {
            throw ApiException.conflict("service " + id + " has no earlier version to roll back to");
        }
        List<RegistryOp> ops = new ArrayList<>();
        keepCount(s, previous);
        Deployment back = startDeployment(s, s.target, previous, 0, true, now(), ops);
        ops.add(putService(s));
        return persisted(ops, DefinitionJson.MAPPER.createObjectNode().put("service", id).put("deployment", back.id)
                .put("version", previous));
    }

    /** Deletes a service: its instances are killed, then it is forgotten. */
    public CompletableFuture<ObjectNode> delete(String id) {
        ServiceState s = existing(id);
        s.status = ServiceState.Status.DELETING;
        s.reason = "deleted by operator";
        List<RegistryOp> ops = new ArrayList<>();
        ops.add(putService(s));
        Deployment d = deployments.get(id);
        if (d != null && d.active()) {
            end(d, Deployment.State.SUPERSEDED, "service deleted", ops);
        }
        LOG.info("Deleting service {}", id);
        return persisted(ops, DefinitionJson.MAPPER.createObjectNode().put("service", id).put("deleting", true));
    }

    // ---------------------------------------------------------------- views

    /** Every service, in brief. */
    public ArrayNode listView() {
        return ServiceViews.list(services.values(), deployments, instances.values());
    }

    /** One service in full: definition, instances, deployment. */
    public ObjectNode serviceView(String id) {
        return ServiceViews.service(existing(id), deployments, instances.values());
    }

    /** host:port of every healthy instance, for load balancers. */
    public ObjectNode endpointsView(String id) {
        existing(id);
        return ServiceViews.endpoints(id, instances.values());
    }

    /** Running deployments and the latest finished ones. */
    public ArrayNode deploymentsView() {
        return ServiceViews.deployments(deployments.values(), pastDeployments.values());
    }

    private ServiceState existing(String id) {
        ServiceState s = services.get(id);
        if (s == null) {
            throw ApiException.notFound(id);
        }
        return s;
    }

    // ---------------------------------------------------------------- the rules

    /** Asks for one step over every service once the loop is idle. */
    void requestStep() {
        loop.whenIdle("step", () -> txn(this::step));
    }

    private void step() {
        long now = now();
        boolean wanted = false;
        for (ServiceState s : List.copyOf(services.values())) {
            DeploymentPlanner.Plan p = plan(s, now);
            if (!p.kills().isEmpty()) {
                kill(p.kills(), s.status == ServiceState.Status.DELETING ? "service deleted" : "plan");
            }
            wanted |= !p.launches().isEmpty();
            progress(s, now);
        }
        if (!subscribed) {
            return;
        }
        if (wanted && suppressed) {
            suppressed = false;
            driver.revive();
        } else if (!wanted && !suppressed) {
            suppressed = true;
            driver.suppress();
        }
    }

    private DeploymentPlanner.Plan plan(ServiceState s, long now) {
        List<Instance> mine = instances.values().stream().filter(i -> i.service.equals(s.id)).toList();
        return DeploymentPlanner.plan(s, deployments.get(s.id), mine, now < recoveryUntil, now);
    }

    /** Deployment bookkeeping after a step: canary promotion, completion, deletion of a drained service. */
    private void progress(ServiceState s, long now) {
        if (s.status == ServiceState.Status.DELETING) {
            if (instances.values().stream().noneMatch(i -> i.service.equals(s.id))) {
                services.remove(s.id);
                Deployment d = deployments.remove(s.id);
                List<RegistryOp> ops = new ArrayList<>();
                ops.add(RegistryOp.delete(SERVICES, s.id));
                if (d != null) {
                    ops.add(RegistryOp.delete(DEPLOYMENTS, s.id));
                }
                LOG.info("Service {} deleted", s.id);
                persist(ops, () -> {});
            }
            return;
        }
        Deployment d = deployments.get(s.id);
        if (d == null || !d.active()) {
            return;
        }
        int n = s.def().instances();
        List<Instance> live = instances.values().stream()
                .filter(i -> i.service.equals(s.id) && i.phase != Instance.Phase.KILLING && !i.draining).toList();
        List<Instance> fresh = live.stream().filter(i -> i.version == d.toVersion).toList();
        boolean allHealthy = fresh.stream().allMatch(Instance::isHealthy);
        ServiceDefinition.UpgradeStrategy u = s.versions.get(d.toVersion).upgrade();
        if (d.inCanary()) {
            int c = Math.min(d.canaries, n);
            if (fresh.size() >= c && allHealthy) {
                if (d.canariesHealthyAt < 0) {
                    d.canariesHealthyAt = now;
                    LOG.info("Canaries of deployment {} are healthy", d.id);
                }
                if (u.autoPromoteAfterMillis() >= 0) {
                    long at = d.canariesHealthyAt + u.autoPromoteAfterMillis();
                    if (now >= at) {
                        promoteNow(d, "canaries healthy for " + DefinitionJson.millis(u.autoPromoteAfterMillis()));
                        persist(List.of(putDeployment(d)), this::requestStep);
                    } else {
                        loop.schedule("promote-" + s.id, Duration.ofMillis(at - now), this::requestStep);
                    }
                } else if (d.state != Deployment.State.WAITING_PROMOTION) {
                    d.state = Deployment.State.WAITING_PROMOTION;
                    loop.cancel("deadline-" + s.id);
                    persist(List.of(putDeployment(d)), () -> {});
                }
            } else {
                d.canariesHealthyAt = -1;
            }
            return;
        }
        boolean oldGone = instances.values().stream().noneMatch(i -> i.service.equals(s.id) && i.version != d.toVersion);
        if (fresh.size() == n && allHealthy && oldGone) {
            List<RegistryOp> ops = new ArrayList<>();
            s.target = d.toVersion;
            end(d, Deployment.State.SUCCEEDED, "", ops);
            ops.add(putService(s));
            persist(ops, () -> {});
        }
    }

    private void promoteNow(Deployment d, String by) {
        d.promoted = true;
        d.state = Deployment.State.RUNNING;
        d.lastProgressAt = now();
        LOG.info("Promoting deployment {} ({})", d.id, by);
        ServiceState s = services.get(d.service);
        scheduleDeadline(s, d);
        requestStep();
    }

    private Deployment startDeployment(ServiceState s, int from, int to, int canaries, boolean rollback, long now,
            List<RegistryOp> ops) {
        Deployment d = new Deployment(s.id + "-" + to + "-" + now, s.id, from, to, canaries, rollback, now);
        deployments.put(s.id, d);
        s.target = to;
        ops.add(putDeployment(d));
        scheduleDeadline(s, d);
        LOG.info("Starting deployment {}{}", d, canaries > 0 ? " with " + canaries + " canaries" : "");
        return d;
    }

    private void scheduleDeadline(ServiceState s, Deployment d) {
        long deadline = s.versions.get(d.toVersion).upgrade().progressDeadlineMillis();
        String id = d.id;
        loop.schedule("deadline-" + s.id, Duration.ofMillis(Math.max(0, d.lastProgressAt + deadline - now())), () -> txn(() -> {
            Deployment current = deployments.get(s.id);
            if (current != null && current.id.equals(id) && current.active()
                    && current.state != Deployment.State.WAITING_PROMOTION && current.canariesHealthyAt < 0
                    && now() - current.lastProgressAt >= deadline) {
                failDeployment(s, current, "no new instance became healthy within the progress deadline of "
                        + DefinitionJson.millis(deadline), now());
            }
        }));
    }

    private void end(Deployment d, Deployment.State state, String reason, List<RegistryOp> ops) {
        d.state = state;
        d.reason = reason;
        deployments.remove(d.service);
        pastDeployments.remove(d.id);
        pastDeployments.put(d.id, d);
        while (pastDeployments.size() > 20) {
            pastDeployments.remove(pastDeployments.keySet().iterator().next());
        }
        loop.cancel("deadline-" + d.service);
        loop.cancel("promote-" + d.service);
        ops.add(RegistryOp.delete(DEPLOYMENTS, d.service));
        LOG.info("Deployment {} ended {}{}", d.id, state, reason.isEmpty() ? "" : ": " + reason);
    }

    private void failDeployment(ServiceState s, Deployment d, String reason, long now) {
        List<RegistryOp> ops = new ArrayList<>();
        boolean revert = s.versions.get(d.toVersion).upgrade().autoRevert() && !d.rollback
                && s.versions.containsKey(d.fromVersion);
        if (revert) {
            LOG.warn("Deployment {} failed: {}; rolling back to version {}", d.id, reason, d.fromVersion);
            rollBack(s, d, reason, now, ops);
        } else {
            LOG.warn("Deployment {} failed: {}; holding (no autoRevert): roll back or deploy a fix", d.id, reason);
            d.state = Deployment.State.FAILED;
            d.reason = reason;
            loop.cancel("deadline-" + s.id);
            ops.add(putDeployment(d));
        }
        persist(ops, this::requestStep);
    }

    private Deployment rollBack(ServiceState s, Deployment d, String reason, long now, List<RegistryOp> ops) {
        end(d, Deployment.State.ROLLED_BACK, reason, ops);
        keepCount(s, d.fromVersion);
        Deployment back = startDeployment(s, d.toVersion, d.fromVersion, 0, true, now, ops);
        s.consecutiveFailures = 0;
        s.nextLaunchAt = 0;
        ops.add(putService(s));
        requestStep();
        return back;
    }

    /** A rollback changes the version, not the instance count: the older version runs as many as now. */
    private static void keepCount(ServiceState s, int version) {
        ServiceDefinition old = s.versions.get(version);
        if (old != null) {
            s.versions.put(version, old.withInstances(s.def().instances()));
        }
    }

    /** An instance ended without being asked to: count it, back off, maybe fail the service or its deployment. */
    private void failed(ServiceState s, Instance i, String why, List<RegistryOp> ops, long now) {
        boolean stable = i.healthySince >= 0 && now - i.healthySince >= STABLE_MILLIS;
        s.consecutiveFailures = stable ? 1 : s.consecutiveFailures + 1;
        ServiceDefinition.BackoffSpec b = s.def().backoff();
        Deployment d = deployments.get(s.id);
        if (d != null && d.active() && i.version == d.toVersion) {
            failDeployment(s, d, "instance " + i.id + " ended " + why, now);
            ops.add(putService(s));
            return;
        }
        if (s.consecutiveFailures >= b.crashLoopLimit()) {
            s.status = ServiceState.Status.FAILED;
            s.reason = "crash loop: " + s.consecutiveFailures + " consecutive failures; last: instance " + i.id + " " + why;
            LOG.warn("Service {} failed: {}", s.id, s.reason);
        } else {
            long delay = b.delayMillis(s.consecutiveFailures);
            s.nextLaunchAt = now + delay;
            LOG.info("Replacing instance {} of {} in {} ms (failure {} in a row)", i.id, s.id, delay, s.consecutiveFailures);
            loop.schedule("backoff-" + s.id, Duration.ofMillis(delay), this::requestStep);
        }
        ops.add(putService(s));
    }

    private void kill(List<Instance> list, String why) {
        List<RegistryOp> ops = new ArrayList<>();
        for (Instance i : list) {
            if (i.phase == Instance.Phase.KILLING) {
                continue;
            }
            i.phase = Instance.Phase.KILLING;
            ops.add(RegistryOp.put(INSTANCES, i.id, bytes(i.toJson())));
            LOG.info("Killing instance {} ({})", i, why);
        }
        persist(ops, () -> list.forEach(i -> driver.kill(TaskID.newBuilder().setValue(i.id).build(),
                AgentID.newBuilder().setValue(i.agentId).build(), null)));
    }

    private List<AgentView> placedOn(String service) {
        List<AgentView> out = new ArrayList<>();
        instances.values().stream().filter(i -> i.service.equals(service) && i.phase != Instance.Phase.KILLING)
                .forEach(i -> {
                    AgentView a = agents.get(i.agentId);
                    out.add(a != null ? a : new AgentView(i.agentId, i.hostname, Map.of(), 0, 0, 0, 0));
                });
        return out;
    }

    // ---------------------------------------------------------------- store

    private RegistryOp putService(ServiceState s) {
        return RegistryOp.put(SERVICES, s.id, bytes(s.toJson()));
    }

    private RegistryOp putDeployment(Deployment d) {
        return RegistryOp.put(DEPLOYMENTS, d.service, bytes(d.toJson()));
    }

    private CompletableFuture<ObjectNode> persisted(List<RegistryOp> ops, ObjectNode answer) {
        CompletableFuture<ObjectNode> done = new CompletableFuture<>();
        persist(ops, () -> {
            requestStep();
            done.complete(answer);
        }, done);
        return done;
    }

    private void persist(List<RegistryOp> ops, Runnable then) {
        persist(ops, then, null);
    }

    private void persist(List<RegistryOp> ops, Runnable then, CompletableFuture<?> answer) {
        gate.persist(ops, then, answer);
    }

    // ---------------------------------------------------------------- transactions

    /** The state one event may change: hard (stored) and soft (rebuilt), swapped as a whole. */
    private record State(TreeMap<String, ServiceState> services, Map<String, Deployment> deployments,
            Map<String, Deployment> pastDeployments, Map<String, Instance> instances, Map<String, AgentView> agents,
            Drains drains, String frameworkId) {}

    private void txn(Runnable body) {
        gate.run(body, null);
    }

    private void txn(Runnable body, Consumer<RuntimeException> onError) {
        gate.run(body, onError);
    }

    private State currentState() {
        return new State(services, deployments, pastDeployments, instances, agents, drains, frameworkId);
    }

    private State copyState() {
        java.util.IdentityHashMap<Deployment, Deployment> copies = new java.util.IdentityHashMap<>();
        TreeMap<String, ServiceState> s = new TreeMap<>();
        services.forEach((k, v) -> s.put(k, v.copy()));
        Map<String, Deployment> d = new TreeMap<>();
        deployments.forEach((k, v) -> d.put(k, copies.computeIfAbsent(v, Deployment::copy)));
        Map<String, Deployment> past = new LinkedHashMap<>();
        pastDeployments.forEach((k, v) -> past.put(k, copies.computeIfAbsent(v, Deployment::copy)));
        Map<String, Instance> i = new LinkedHashMap<>();
        instances.forEach((k, v) -> i.put(k, v.copy()));
        return new State(s, d, past, i, new TreeMap<>(agents), drains.copy(), frameworkId);
    }

    private void install(State state) {
        services = state.services;
        deployments = state.deployments;
        pastDeployments = state.pastDeployments;
        instances = state.instances;
        agents = state.agents;
        drains = state.drains;
        frameworkId = state.frameworkId;
    }

    static byte[] bytes(ObjectNode o) {
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static com.fasterxml.jackson.databind.JsonNode json(byte[] b) {
        try {
            return DefinitionJson.MAPPER.readTree(b);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable record in the services store: " + e.getMessage(), e);
        }
    }

    private long now() {
        return loop.clock().millis();
    }
}
