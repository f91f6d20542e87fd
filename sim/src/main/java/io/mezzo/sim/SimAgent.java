package io.mezzo.sim;

import com.google.protobuf.ByteString;
import io.mezzo.agent.status.StatusUpdateManager;
import io.mezzo.agent.status.TaskKey;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskCheckpoint;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One agent: the agent's real {@link StatusUpdateManager} (order, retries, acknowledgements, the
 * checkpointed stream) on a manual loop, around a simulated containerizer and an in-memory
 * checkpoint. It follows the agent's protocol as {@code MasterLink} and {@code AgentCore} do:
 * REGISTER, or REREGISTER with its tasks and unacknowledged updates once it has an id; PONG for every
 * PING and a reconnection after missed PINGs; no message of an epoch older than the highest seen.
 *
 * <p>What survives a crash (the work directory and the processes): the agent id, every task's
 * checkpoint (record and unacknowledged updates, written by the manager before anything is sent) and
 * the containers, which keep running and end on their own while the agent is down. Everything else is
 * rebuilt on restart, as {@code AgentRecovery} does.
 *
 * <p>Thread: the simulation's.
 */
final class SimAgent implements Link.Client<MasterMessage> {

    /** A simulated process: it ends at {@code endsAt} with {@code outcome}, or when killed. */
    private static final class Container {
        final TaskKey key;
        final long endsAt;
        final TaskState outcome;
        boolean ended;

        Container(TaskKey key, long endsAt, TaskState outcome) {
            this.key = key;
            this.endsAt = endsAt;
            this.outcome = outcome;
        }
    }

    /** A task as the agent keeps it (soft; rebuilt from its checkpoint). */
    private static final class SimTask {
        final FrameworkInfo framework;
        final TaskInfo info;
        TaskState state;

        SimTask(FrameworkInfo framework, TaskInfo info, TaskState state) {
            this.framework = framework;
            this.info = info;
            this.state = state;
        }
    }

    private static final String PING_TIMEOUT = "link/ping-timeout";
    private static final String REGISTRATION_TIMEOUT = "link/registration-timeout";

    final String name;
    private final Cluster cluster;
    private final World world;
    private final AgentInfo baseInfo;
    private final Resources total;

    // Durable: the work directory and the processes.
    private AgentID id;
    private final Map<TaskKey, TaskCheckpoint> checkpoints = new LinkedHashMap<>();
    /** The frameworks' infos, checkpointed with their first task as the real agent does. */
    private final Map<String, FrameworkInfo> frameworkInfos = new LinkedHashMap<>();
    private final Map<TaskKey, Container> containers = new LinkedHashMap<>();

    // Soft: the process.
    private boolean up;
    private long generation;
    private EventLoop loop;
    private StatusUpdateManager updates;
    private Link<AgentMessage, MasterMessage> link;
    private boolean registered;
    private long highestEpoch;
    private final Map<TaskKey, SimTask> tasks = new LinkedHashMap<>();
    private long uuidCounter;

    SimAgent(Cluster cluster, String name, Resources total) {
        this.cluster = cluster;
        this.world = cluster.world;
        this.name = name;
        this.total = total;
        this.baseInfo = AgentInfo.newBuilder().setHostname(name).setPort(5051).addAllResources(total.toProto()).build();
    }

    boolean up() {
        return up;
    }

    boolean registered() {
        return up && registered;
    }

    String id() {
        return id == null ? null : id.getValue();
    }

    // ------------------------------------------------------------------ process lifecycle

    /** Starts the agent process: recovers what the previous one left, then registers. */
    void start() {
        if (up) {
            return;
        }
        up = true;
        generation++;
        loop = world.newLoop(name);
        updates = new StatusUpdateManager(loop, Duration.ofMillis(500), Duration.ofSeconds(8), world.random,
                this::sendUpdate);
        updates.streamCheckpoint((key, record) -> checkpoints.put(key, record));
        updates.listener(this::terminalAcknowledged);
        recover();
        connect();
    }

    /** The process dies: the loop and its timers go, the stream breaks; the work directory stays. */
    void crash() {
        if (!up) {
            return;
        }
        up = false;
        generation++;
        dropLink("agent crashed");
        world.dropLoop(loop);
        tasks.clear();
        registered = false;
    }

    /** The network breaks the agent's stream. */
    void breakStream() {
        if (link != null) {
            link.breakLink("network fault");
        }
    }

    private void recover() {
        tasks.clear();
        long now = world.clock.millis();
        for (Map.Entry<TaskKey, TaskCheckpoint> e : List.copyOf(checkpoints.entrySet())) {
            TaskKey key = e.getKey();
            TaskCheckpoint record = e.getValue();
            Task task = record.getTask();
            SimTask t = new SimTask(frameworkInfos.getOrDefault(key.framework().value(),
                    FrameworkInfo.newBuilder().setId(key.framework().toProto()).build()), task.getTaskInfo(), task.getState());
            tasks.put(key, t);
            updates.restore(key, record);
            if (TaskStates.isTerminal(t.state)) {
                continue;
            }
            Container c = containers.get(key);
            if (c == null) {
                // Killed by the restart in the middle of its launch.
                report(key, TaskState.TASK_FAILED, StatusReason.REASON_AGENT_RESTARTED, "agent restarted during launch");
            } else if (c.ended || c.endsAt <= now) {
                exited(c);
            }
        }
        for (Container c : containers.values()) {
            if (!c.ended && c.endsAt > now) {
                watch(c);
            }
        }
    }

    // ------------------------------------------------------------------ the master link

    private void connect() {
        if (!up) {
            return;
        }
        SimMaster leader = cluster.zk.leader();
        if (leader == null || !leader.alive()) {
            reconnectLater("no leader");
            return;
        }
        long gen = generation;
        link = current(leader.master()::connect);
        leader.opened(link);
        if (id == null) {
            link.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                    .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(baseInfo)).build(), "REGISTER");
        } else {
            link.send(AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(id)
                    .setReregister(reregistration()).build(), "REREGISTER with " + tasks.size() + " tasks");
        }
        Link<AgentMessage, MasterMessage> opened = link;
        loop.schedule(REGISTRATION_TIMEOUT, Duration.ofSeconds(5), () -> {
            if (gen == generation && link == opened && !registered) {
                reconnect("no REGISTERED within 5 s");
            }
        });
    }

    /** A new link whose messages reach this agent only while it is the current one (as MasterLink does). */
    private Link<AgentMessage, MasterMessage> current(java.util.function.Function<
            io.grpc.stub.StreamObserver<MasterMessage>, io.grpc.stub.StreamObserver<AgentMessage>> open) {
        List<Link<AgentMessage, MasterMessage>> self = new java.util.ArrayList<>(1);
        Link<AgentMessage, MasterMessage> l = new Link<>(world, cluster.network, name, new Link.Client<>() {
            @Override
            public void received(MasterMessage message) {
                if (link == self.get(0)) {
                    SimAgent.this.received(message);
                }
            }

            @Override
            public void closed(String why) {
                if (link == self.get(0)) {
                    SimAgent.this.closed(why);
                }
            }
        }, open);
        self.add(l);
        return l;
    }

    private AgentMessage.Reregister reregistration() {
        AgentMessage.Reregister.Builder b = AgentMessage.Reregister.newBuilder()
                .setAgentInfo(baseInfo.toBuilder().setId(id));
        Map<String, FrameworkInfo> frameworks = new LinkedHashMap<>();
        for (Map.Entry<TaskKey, SimTask> e : tasks.entrySet()) {
            b.addTasks(toProto(e.getKey(), e.getValue()));
            frameworks.putIfAbsent(e.getKey().framework().value(), e.getValue().framework);
        }
        b.addAllFrameworks(frameworks.values());
        b.addAllUnacknowledgedUpdates(updates.pending());
        return b.build();
    }

    @Override
    public void received(MasterMessage message) {
        if (!up) {
            return;
        }
        if (message.getEpoch() < highestEpoch) {
            return;
        }
        highestEpoch = Math.max(highestEpoch, message.getEpoch());
        switch (message.getType()) {
            case REGISTERED -> registered(message.getRegistered());
            case PING -> {
                link.send(AgentMessage.newBuilder().setType(AgentMessage.Type.PONG).setAgentId(id)
                        .setPong(AgentMessage.Pong.newBuilder().setSequence(message.getPing().getSequence())).build(), "");
                armPingTimeout();
            }
            case ERROR -> reconnect("master refused the agent: " + message.getShutdown().getMessage());
            case SHUTDOWN -> shutdown(message.getShutdown().getMessage());
            default -> {
                if (!registered) {
                    return;
                }
                switch (message.getType()) {
                    case RUN_TASK -> runTask(message.getRunTask());
                    case KILL_TASK -> kill(message.getKillTask());
                    case STATUS_UPDATE_ACK -> updates.acknowledge(message.getStatusUpdateAck());
                    case SHUTDOWN_FRAMEWORK -> shutdownFramework(FrameworkId.of(message.getShutdownFramework()
                            .getFrameworkId()));
                    default -> { }
                }
            }
        }
    }

    private void registered(MasterMessage.Registered r) {
        if (registered) {
            return;
        }
        id = r.getAgentId();
        registered = true;
        world.trace(name + " registered as " + id.getValue() + " with " + r.getMasterInfo().getId());
        armPingTimeout();
        updates.resume();
    }

    private void armPingTimeout() {
        long gen = generation;
        Link<AgentMessage, MasterMessage> current = link;
        loop.schedule(PING_TIMEOUT, Duration.ofSeconds(6), () -> {
            if (gen == generation && link == current && registered) {
                reconnect("no PING within 6 s");
            }
        });
    }

    @Override
    public void closed(String why) {
        // Only the current stream matters; an old one's end was already handled.
        if (up) {
            reconnect(why);
        }
    }

    private void reconnect(String why) {
        dropLink(why);
        reconnectLater(why);
    }

    private void dropLink(String why) {
        if (link != null) {
            link.closeFromClient(why);
            link = null;
        }
        if (registered) {
            registered = false;
            updates.pause();
        }
        if (loop != null) {
            loop.cancel(PING_TIMEOUT);
            loop.cancel(REGISTRATION_TIMEOUT);
        }
    }

    private void reconnectLater(String why) {
        long gen = generation;
        world.after(100 + world.random.nextInt(1000), name + " reconnects (" + why + ")", () -> {
            if (gen == generation && up && link == null) {
                connect();
            }
        });
    }

    /** The master shut the agent down: its tasks are killed and its work directory wiped; it starts anew. */
    private void shutdown(String why) {
        world.trace(name + " shut down by the master: " + why);
        crash();
        for (Container c : containers.values()) {
            c.ended = true;
        }
        containers.clear();
        checkpoints.clear();
        frameworkInfos.clear();
        id = null;
        world.after(1000, name + " starts anew after a shutdown", this::start);
    }

    private void sendUpdate(StatusUpdate update) {
        if (link != null && registered) {
            link.send(AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(id)
                    .setStatusUpdate(update).build(), "STATUS_UPDATE " + update.getStatus().getTaskId().getValue() + " "
                    + update.getStatus().getState());
        }
    }

    // ------------------------------------------------------------------ tasks

    private void runTask(MasterMessage.RunTask run) {
        TaskInfo info = run.getTask();
        TaskKey key = new TaskKey(FrameworkId.of(run.getFramework().getId()), TaskId.of(info.getTaskId()));
        if (tasks.containsKey(key) || updates.hasStream(key)) {
            cluster.violation(name + " was asked to run task " + key + " it already has");
            return;
        }
        cluster.invariants.launching(this, key.task().value());
        frameworkInfos.putIfAbsent(key.framework().value(), run.getFramework());
        SimTask task = new SimTask(run.getFramework(), info, TaskState.TASK_STAGING);
        tasks.put(key, task);
        checkResources();
        report(key, TaskState.TASK_STARTING, StatusReason.REASON_UNSPECIFIED, "");
        long gen = generation;
        world.after(1 + world.random.nextInt(30), "", () -> {
            SimTask t = tasks.get(key);
            if (gen != generation || t == null || t.state != TaskState.TASK_STARTING) {
                return;
            }
            if (world.random.nextInt(50) == 0) {
                report(key, TaskState.TASK_FAILED, StatusReason.REASON_CONTAINER_LAUNCH_FAILED, "launch failed");
                return;
            }
            long duration = cluster.taskDuration();
            TaskState outcome = world.random.nextInt(8) == 0 ? TaskState.TASK_FAILED : TaskState.TASK_FINISHED;
            Container c = new Container(key, world.clock.millis() + duration, outcome);
            containers.put(key, c);
            watch(c);
            report(key, TaskState.TASK_RUNNING, StatusReason.REASON_UNSPECIFIED, "");
        });
    }

    /** The container's end, noticed by whichever agent process is up then. */
    private void watch(Container c) {
        long gen = generation;
        world.after(c.endsAt - world.clock.millis(), "", () -> {
            if (gen == generation && up && !c.ended) {
                exited(c);
            }
        });
    }

    private void exited(Container c) {
        c.ended = true;
        containers.remove(c.key);
        SimTask t = tasks.get(c.key);
        if (t != null && !TaskStates.isTerminal(t.state)) {
            report(c.key, c.outcome, c.outcome == TaskState.TASK_FINISHED ? StatusReason.REASON_UNSPECIFIED
                    : StatusReason.REASON_UNSPECIFIED, "exited");
        }
    }

    private void kill(MasterMessage.KillTask kill) {
        TaskKey key = new TaskKey(FrameworkId.of(kill.getFrameworkId()), TaskId.of(kill.getTaskId()));
        SimTask t = tasks.get(key);
        if (t == null) {
            if (updates.hasStream(key)) {
                return;
            }
            updates.sendOnce(stamp(key, TaskState.TASK_LOST, StatusReason.REASON_TASK_UNKNOWN,
                    "Task is unknown to the agent", null));
            return;
        }
        if (TaskStates.isTerminal(t.state)) {
            return;
        }
        Container c = containers.remove(key);
        if (c != null) {
            c.ended = true;
        }
        report(key, TaskState.TASK_KILLED, kill.getReason(), "killed");
    }

    private void shutdownFramework(FrameworkId framework) {
        updates.dropFramework(framework);
        for (TaskKey key : List.copyOf(tasks.keySet())) {
            if (key.framework().equals(framework)) {
                Container c = containers.remove(key);
                if (c != null) {
                    c.ended = true;
                }
                tasks.remove(key);
                checkpoints.remove(key);
            }
        }
        world.trace(name + " shut framework " + framework + " down");
    }

    private void terminalAcknowledged(TaskKey key) {
        tasks.remove(key);
        checkpoints.remove(key);
    }

    /** The one place a task's state changes: the update goes through the status update manager. */
    private void report(TaskKey key, TaskState state, StatusReason reason, String message) {
        SimTask t = tasks.get(key);
        t.state = state;
        StatusUpdate update = stamp(key, state, reason, message, t);
        cluster.history(key).add(update.getStatus().getUuid());
        updates.add(update, TaskCheckpoint.newBuilder().setTask(toProto(key, t)).build());
    }

    private StatusUpdate stamp(TaskKey key, TaskState state, StatusReason reason, String message, SimTask t) {
        // Seeded uuids (the real agent's are random) so that a seed replays byte for byte.
        ByteBuffer b = ByteBuffer.allocate(16).putLong(world.seed).putLong(++uuidCounter ^ ((long) name.hashCode() << 40));
        TaskStatus.Builder s = TaskStatus.newBuilder()
                .setTaskId(key.task().toProto())
                .setState(state)
                .setReason(reason)
                .setMessage(message)
                .setSource(StatusSource.SOURCE_AGENT)
                .setTimestamp(world.clock.seconds())
                .setUuid(ByteString.copyFrom(b.array()));
        if (id != null) {
            s.setAgentId(id);
        }
        return StatusUpdate.newBuilder().setFrameworkId(key.framework().toProto()).setStatus(s).build();
    }

    private Task toProto(TaskKey key, SimTask t) {
        Task.Builder b = Task.newBuilder()
                .setName(t.info.getName())
                .setTaskId(t.info.getTaskId())
                .setFrameworkId(key.framework().toProto())
                .setState(t.state)
                .addAllResources(t.info.getResourcesList())
                .setTaskInfo(t.info);
        if (id != null) {
            b.setAgentId(id);
        }
        return b.build();
    }

    // ------------------------------------------------------------------ for the invariants

    /** Resources of the agent's live tasks fit its total (nothing used twice on the agent). */
    void checkResources() {
        Resources used = Resources.EMPTY;
        for (SimTask t : tasks.values()) {
            if (!TaskStates.isTerminal(t.state)) {
                used = used.plus(Resources.fromProto(t.info.getResourcesList()));
            }
        }
        if (!total.contains(used.withoutReservations())) {
            cluster.violation(name + " runs tasks using " + used + ", more than its total " + total);
        }
    }

    /** The agent's live tasks and their states, by task id. */
    Map<String, TaskState> liveTasks() {
        Map<String, TaskState> live = new LinkedHashMap<>();
        tasks.forEach((key, t) -> {
            if (!TaskStates.isTerminal(t.state)) {
                live.put(key.task().value(), t.state);
            }
        });
        return live;
    }

    /** Updates not yet acknowledged, for the quiescence check. */
    List<StatusUpdate> pendingUpdates() {
        return up ? updates.pending() : List.of();
    }
}
