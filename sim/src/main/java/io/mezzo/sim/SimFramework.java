package io.mezzo.sim;

import com.google.protobuf.ByteString;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scripted scheduler that follows the protocol the scheduler library follows: SUBSCRIBE (with its
 * id once it has one), ACCEPT offers by launching tasks that fit, DECLINE the rest, ACKNOWLEDGE every
 * update that carries a uuid (now and then late, or never: the agent resends), and reconcile every
 * task it launched and has not seen end after every (re)subscription, as {@code Subscription} does.
 * It checks, as each update arrives, that a task's agent updates come in the order the agent made them
 * and that none was skipped.
 *
 * <p>What survives its failover (the framework's own store): its id and the tasks it launched with
 * what it learned of them. Everything else is soft.
 *
 * <p>Thread: the simulation's.
 */
final class SimFramework implements Link.Client<Event> {

    /** What the framework knows of a task it launched. */
    static final class Known {
        final String agentId;
        TaskState state = TaskState.TASK_STAGING;
        boolean ended;
        final List<ByteString> seen = new ArrayList<>();

        Known(String agentId) {
            this.agentId = agentId;
        }
    }

    final String name;
    private final Cluster cluster;
    private final World world;
    private final FrameworkInfo info;

    // Durable (the framework's store).
    private FrameworkID id;
    private boolean removed;
    final Map<String, Known> launched = new LinkedHashMap<>();
    private int taskCounter;

    // Soft.
    private boolean up;
    private long generation;
    private Link<Call, Event> link;
    private boolean subscribed;
    private boolean launching = true;

    SimFramework(Cluster cluster, String name, double failoverTimeoutSeconds, boolean partitionAware) {
        this.cluster = cluster;
        this.world = cluster.world;
        this.name = name;
        FrameworkInfo.Builder b = FrameworkInfo.newBuilder().setUser("sim").setName(name).addRoles("role-" + name)
                .setFailoverTimeout(failoverTimeoutSeconds).setCheckpoint(true);
        if (partitionAware) {
            b.addCapabilities(FrameworkInfo.Capability.newBuilder()
                    .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE));
        }
        this.info = b.build();
    }

    String id() {
        return id == null ? null : id.getValue();
    }

    /** The master removed it (it heard so, or the registry says so). */
    boolean removed() {
        return removed;
    }

    boolean up() {
        return up;
    }

    /** Stops launching: the quiescence phase. */
    void stopLaunching() {
        launching = false;
    }

    void start() {
        if (removed || up) {
            return;
        }
        up = true;
        generation++;
        connect();
        tick(generation);
    }

    /** The scheduler process stops (a failover follows when it starts again). */
    void stop() {
        if (!up) {
            return;
        }
        up = false;
        generation++;
        subscribed = false;
        if (link != null) {
            link.closeFromClient("scheduler stopped");
            link = null;
        }
    }

    /** The network breaks its stream. */
    void breakStream() {
        if (link != null) {
            link.breakLink("network fault");
        }
    }

    /** TEARDOWN: the framework ends itself. */
    void teardown() {
        if (subscribed) {
            send(Call.newBuilder().setType(Call.Type.TEARDOWN), "TEARDOWN");
        }
    }

    private void connect() {
        if (!up || removed) {
            return;
        }
        SimMaster leader = cluster.zk.leader();
        if (leader == null || !leader.alive()) {
            reconnectLater("no leader");
            return;
        }
        link = current(leader.master()::subscribe);
        leader.opened(link);
        FrameworkInfo.Builder fi = info.toBuilder();
        if (id != null) {
            fi.setId(id);
        }
        Call.Builder subscribe = Call.newBuilder().setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(fi));
        if (id != null) {
            subscribe.setFrameworkId(id);
        }
        link.send(subscribe.build(), "SUBSCRIBE" + (id == null ? "" : " as " + id.getValue()));
    }

    /**
     * A new link whose events reach this scheduler only while it is the current one: the end of an
     * old stream (its ERROR, its close) must not touch the new one, as in the scheduler library.
     */
    private Link<Call, Event> current(java.util.function.Function<io.grpc.stub.StreamObserver<Event>,
            io.grpc.stub.StreamObserver<Call>> open) {
        List<Link<Call, Event>> self = new ArrayList<>(1);
        Link<Call, Event> l = new Link<>(world, cluster.network, name, new Link.Client<>() {
            @Override
            public void received(Event message) {
                if (link == self.get(0)) {
                    SimFramework.this.received(message);
                }
            }

            @Override
            public void closed(String why) {
                if (link == self.get(0)) {
                    SimFramework.this.closed(why);
                }
            }
        }, open);
        self.add(l);
        return l;
    }

    private void reconnectLater(String why) {
        long gen = generation;
        world.after(100 + world.random.nextInt(1500), name + " reconnects (" + why + ")", () -> {
            if (gen == generation && up && link == null) {
                connect();
            }
        });
    }

    @Override
    public void closed(String why) {
        if (!up) {
            return;
        }
        subscribed = false;
        link = null;
        reconnectLater(why);
    }

    @Override
    public void received(Event event) {
        if (!up) {
            return;
        }
        switch (event.getType()) {
            case SUBSCRIBED -> subscribed(event.getSubscribed());
            case OFFERS -> event.getOffers().getOffersList().forEach(this::offer);
            case UPDATE -> update(event.getUpdate().getStatus());
            case ERROR -> {
                world.trace(name + " got ERROR " + event.getError().getCode() + ": " + event.getError().getMessage());
                if (event.getError().getCode() == Event.Error.Code.FRAMEWORK_REMOVED) {
                    world.trace(name + " learns it was removed: " + event.getError().getMessage());
                    removed = true;
                    stop();
                }
            }
            default -> { }
        }
    }

    private void subscribed(Event.Subscribed s) {
        id = s.getFrameworkId();
        subscribed = true;
        Call.Reconcile.Builder r = Call.Reconcile.newBuilder();
        launched.forEach((task, k) -> {
            if (!k.ended) {
                r.addTasks(Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue(task))
                        .setAgentId(AgentID.newBuilder().setValue(k.agentId)));
            }
        });
        if (r.getTasksCount() > 0) {
            send(Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(r), "RECONCILE " + r.getTasksCount()
                    + " tasks");
        }
    }

    private void offer(Offer offer) {
        if (!subscribed) {
            return;
        }
        if (!launching || world.random.nextInt(4) == 0) {
            send(Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder()
                    .addOfferIds(offer.getId())
                    .setFilters(Filters.newBuilder().setRefuseSeconds(launching ? 1 + world.random.nextInt(4) : 30))),
                    "DECLINE " + offer.getId().getValue());
            return;
        }
        Resources left = Resources.fromProto(offer.getResourcesList()).withoutReservations();
        Offer.Operation.Launch.Builder launch = Offer.Operation.Launch.newBuilder();
        int want = 1 + world.random.nextInt(3);
        for (int i = 0; i < want; i++) {
            Resources r = Resources.scalars("cpus", 100L * (1 + world.random.nextInt(10)), "mem",
                    32_000L * (1 + world.random.nextInt(16)));
            if (!left.contains(r)) {
                break;
            }
            left = left.minus(r);
            String task = name + "-t" + (++taskCounter);
            launch.addTaskInfos(TaskInfo.newBuilder().setName(task).setTaskId(TaskID.newBuilder().setValue(task))
                    .setAgentId(offer.getAgentId()).addAllResources(r.toProto())
                    .setCommand(CommandInfo.newBuilder().setShell("sleep 1")));
            launched.put(task, new Known(offer.getAgentId().getValue()));
            cluster.launchedTasks++;
        }
        Call.Accept.Builder accept = Call.Accept.newBuilder().addOfferIds(offer.getId())
                .setFilters(Filters.newBuilder().setRefuseSeconds(0));
        if (launch.getTaskInfosCount() > 0) {
            accept.addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH).setLaunch(launch));
        }
        send(Call.newBuilder().setType(Call.Type.ACCEPT).setAccept(accept), "ACCEPT " + offer.getId().getValue()
                + " launching " + launch.getTaskInfosCount());
    }

    private void update(TaskStatus status) {
        String task = status.getTaskId().getValue();
        Known k = launched.get(task);
        if (k == null) {
            cluster.violation(name + " got an update for task " + task + " it never launched");
            return;
        }
        ByteString uuid = status.getUuid();
        if (!uuid.isEmpty()) {
            if (!k.seen.contains(uuid)) {
                List<ByteString> made = cluster.history(new TaskKey(FrameworkId.of(id), TaskId.of(task)));
                int next = k.seen.size();
                if (next >= made.size() || !made.get(next).equals(uuid)) {
                    cluster.violation(name + " got update " + status.getState() + " of task " + task + " out of order:"
                            + " it is not update " + (next + 1) + " of the " + made.size() + " the agent made");
                }
                k.seen.add(uuid);
            }
            if (world.random.nextInt(20) != 0) {
                send(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                        .setAgentId(status.getAgentId()).setTaskId(status.getTaskId()).setUuid(uuid)),
                        "ACKNOWLEDGE " + task + " " + status.getState());
            }
        }
        k.state = status.getState();
        if (TaskStates.isTerminal(status.getState())) {
            k.ended = true;
        }
    }

    /** Now and then: kill a task, or reconcile everything. */
    private void tick(long gen) {
        world.after(1000 + world.random.nextInt(4000), "", () -> {
            if (gen != generation || !up) {
                return;
            }
            if (subscribed) {
                int dice = world.random.nextInt(10);
                List<String> live = launched.entrySet().stream().filter(e -> !e.getValue().ended).map(Map.Entry::getKey)
                        .toList();
                if (dice < 2 && !live.isEmpty() && launching) {
                    String task = live.get(world.random.nextInt(live.size()));
                    send(Call.newBuilder().setType(Call.Type.KILL).setKill(Call.Kill.newBuilder()
                            .setTaskId(TaskID.newBuilder().setValue(task))
                            .setAgentId(AgentID.newBuilder().setValue(launched.get(task).agentId))), "KILL " + task);
                } else if (dice < 3) {
                    Call.Reconcile.Builder r = Call.Reconcile.newBuilder();
                    live.forEach(t -> r.addTasks(Call.Reconcile.Task.newBuilder()
                            .setTaskId(TaskID.newBuilder().setValue(t))
                            .setAgentId(AgentID.newBuilder().setValue(launched.get(t).agentId))));
                    send(Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(r), "RECONCILE " + live.size()
                            + " tasks");
                }
            }
            tick(gen);
        });
    }

    private void send(Call.Builder call, String what) {
        if (link == null) {
            return;
        }
        if (id != null) {
            call.setFrameworkId(id);
        }
        link.send(call.build(), what);
    }

    /** Kills every task it has not seen end (again every few seconds until they have): the wind-down. */
    void killAll() {
        long gen = generation;
        if (subscribed) {
            launched.forEach((task, k) -> {
                if (!k.ended) {
                    send(Call.newBuilder().setType(Call.Type.KILL).setKill(Call.Kill.newBuilder()
                            .setTaskId(TaskID.newBuilder().setValue(task))
                            .setAgentId(AgentID.newBuilder().setValue(k.agentId))), "KILL " + task);
                }
            });
        }
        world.after(5000, "", () -> {
            if (up && launched.values().stream().anyMatch(k -> !k.ended)) {
                killAll();
            }
        });
    }

    /** The framework's id, as the master knows it. */
    FrameworkId frameworkId() {
        return id == null ? null : FrameworkId.of(id);
    }

    /** Marks it removed from what the registry says (it may never have heard). */
    void markRemoved() {
        removed = true;
    }
}
