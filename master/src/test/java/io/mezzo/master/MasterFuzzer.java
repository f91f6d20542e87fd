package io.mezzo.master;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.StatusSource;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.Value;
import io.mezzo.testkit.ProtoMutator;
import io.mezzo.testkit.Protos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded fuzzing of a real master core ({@link CoreHarness}: the master's event loop, managers and
 * allocator, with in-memory streams): every step sends a mutated valid scheduler call, agent
 * message or operator request (random fields, sizes, ids, enum values, orders), and after every
 * step the master must still answer its state and keep its invariants ({@link
 * MasterCore#checkInvariants()}); nothing may reach the fault handler. A finding names the seed and
 * the step, so {@code run(seed, step + 1)} replays it; each becomes a regression test.
 *
 * <p>Used by {@code MasterFuzzTest} (a short run in the suite) and {@code MasterFuzz} (a long run).
 */
final class MasterFuzzer {

    /** What broke, with the seed and step that replay it. */
    static final class Finding extends AssertionError {
        private static final long serialVersionUID = 1L;

        Finding(long seed, int step, String what, Throwable cause) {
            super("seed " + seed + ", step " + step + ": " + what, cause);
        }
    }

    private final long seed;
    private final Random random;
    private final CoreHarness h = new CoreHarness(List.of(), b -> b.agentPingInterval(Duration.ofSeconds(15)));
    private final List<String> ids = new ArrayList<>();
    private final ProtoMutator mutator;
    private final List<CoreHarness.Scheduler> schedulers = new ArrayList<>();
    private final List<CoreHarness.Agent> agents = new ArrayList<>();
    private int taskCount;
    /** Longest log line a step may produce: untrusted fields are cut, so no line comes near this. */
    static final int MAX_LOG_LINE = 16 * 1024;

    MasterFuzzer(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
        this.mutator = new ProtoMutator(random, ids);
    }

    /** Runs {@code steps} steps; throws a {@link Finding} at the first broken expectation. */
    void run(int steps) {
        try (LogLines logs = new LogLines("io.mezzo.master")) {
            for (int i = 0; i < 2; i++) {
                CoreHarness.Agent a = h.register("host-" + i);
                agents.add(a);
                ids.add(a.info.getId().getValue());
            }
            for (int step = 0; step < steps; step++) {
                String what = step();
                check(step, what);
                String longest = logs.takeLongest();
                if (longest.length() > MAX_LOG_LINE) {
                    throw new Finding(seed, step, what + " logged a line of " + longest.length() + " characters: "
                            + abbreviated(longest), null);
                }
            }
        } finally {
            h.loop.close();
        }
        if (!h.faults.faults().isEmpty()) {
            throw new Finding(seed, steps, "faults: " + h.faults.faults(), null);
        }
    }

    private void check(int step, String what) {
        if (!h.faults.faults().isEmpty()) {
            throw new Finding(seed, step, what + " recorded faults " + h.faults.faults(), null);
        }
        String broken;
        try {
            broken = h.call(() -> {
                h.core.views().state();
                h.core.views().roles();
                return h.core.checkInvariants();
            });
        } catch (AssertionError e) {
            throw new Finding(seed, step, what + " left the master unable to answer its state", e);
        }
        if (broken != null) {
            throw new Finding(seed, step, what + " broke an invariant: " + broken, null);
        }
    }

    /** One random action; returns what it did, for the finding. */
    private String step() {
        int pick = random.nextInt(100);
        if (pick < 10 || schedulers.isEmpty()) {
            return subscribe();
        }
        if (pick < 45) {
            return schedulerCall();
        }
        if (pick < 75) {
            return agentMessage();
        }
        if (pick < 85) {
            return operator();
        }
        if (pick < 92) {
            h.advance(Duration.ofSeconds(1 + random.nextInt(20)));
            return "time passes";
        }
        CoreHarness.Agent a = agents.get(random.nextInt(agents.size()));
        a.close();
        return "agent stream closes";
    }

    private String subscribe() {
        FrameworkInfo.Builder info = Protos.framework("fuzz").addCapabilities(FrameworkInfo.Capability.newBuilder()
                .setType(random.nextBoolean() ? FrameworkInfo.Capability.Type.PARTITION_AWARE
                        : FrameworkInfo.Capability.Type.TASK_KILLING_STATE));
        if (!ids.isEmpty() && random.nextInt(4) == 0) {
            info.setId(FrameworkID.newBuilder().setValue(ids.get(random.nextInt(ids.size()))));
        }
        FrameworkInfo sent = random.nextInt(3) == 0 ? mutator.mutate(info.build(), 3) : info.build();
        CoreHarness.Scheduler s = h.subscribe(sent);
        if (s.conn.framework != null) {
            schedulers.add(s);
            ids.add(s.conn.framework.value());
        }
        return "SUBSCRIBE " + abbreviated(sent);
    }

    private String schedulerCall() {
        CoreHarness.Scheduler s = schedulers.get(random.nextInt(schedulers.size()));
        if (s.conn.framework == null || s.events.completed) {
            schedulers.remove(s);
            return "forgot a closed scheduler";
        }
        Call.Builder valid = validCall(s);
        Call call = random.nextInt(3) == 0 ? mutator.mutate(valid.setFrameworkId(s.conn.framework.toProto()).build(), 4)
                : valid.setFrameworkId(s.conn.framework.toProto()).build();
        h.run(() -> h.core.onSchedulerCall(s.conn, call));
        return "call " + abbreviated(call);
    }

    private Call.Builder validCall(CoreHarness.Scheduler s) {
        List<Offer> offers = s.ofType(Event.Type.OFFERS).stream().flatMap(e -> e.getOffers().getOffersList().stream())
                .toList();
        Offer offer = offers.isEmpty() ? null : offers.get(random.nextInt(offers.size()));
        String task = random.nextInt(4) == 0 && taskCount > 0 ? "t" + random.nextInt(taskCount) : "t" + taskCount++;
        ids.add(task);
        return switch (random.nextInt(8)) {
            case 0, 1, 2 -> {
                if (offer == null) {
                    yield Call.newBuilder().setType(Call.Type.REVIVE);
                }
                TaskInfo t = TaskInfo.newBuilder().setName(task).setTaskId(TaskID.newBuilder().setValue(task))
                        .setAgentId(offer.getAgentId())
                        .addAllResources(ResourceText.parse("cpus:0.5;mem:64").toProto())
                        .setCommand(CommandInfo.newBuilder().setShell("sleep 1000")).build();
                yield Call.newBuilder().setType(Call.Type.ACCEPT).setAccept(Call.Accept.newBuilder()
                        .addOfferIds(offer.getId())
                        .addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH)
                                .setLaunch(Offer.Operation.Launch.newBuilder().addTaskInfos(t))));
            }
            case 3 -> Call.newBuilder().setType(Call.Type.DECLINE).setDecline(Call.Decline.newBuilder()
                    .addOfferIds(offer == null ? OfferID.newBuilder().setValue("o-1").build() : offer.getId())
                    .setFilters(Filters.newBuilder().setRefuseSeconds(random.nextInt(10))));
            case 4 -> Call.newBuilder().setType(Call.Type.KILL).setKill(Call.Kill.newBuilder()
                    .setTaskId(TaskID.newBuilder().setValue(task)).setAgentId(agentId()));
            case 5 -> Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setAcknowledge(Call.Acknowledge.newBuilder()
                    .setAgentId(agentId()).setTaskId(TaskID.newBuilder().setValue(task))
                    .setUuid(Protos.uuid()));
            case 6 -> Call.newBuilder().setType(Call.Type.RECONCILE).setReconcile(Call.Reconcile.newBuilder()
                    .addTasks(Call.Reconcile.Task.newBuilder().setTaskId(TaskID.newBuilder().setValue(task))));
            default -> Call.newBuilder().setType(random.nextInt(10) == 0 ? Call.Type.TEARDOWN : Call.Type.SUPPRESS);
        };
    }

    private AgentID agentId() {
        return agents.get(random.nextInt(agents.size())).info.getId();
    }

    private String agentMessage() {
        CoreHarness.Agent a = agents.get(random.nextInt(agents.size()));
        AgentMessage valid = switch (random.nextInt(4)) {
            case 0 -> AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(a.info.getId())
                    .setReregister(AgentMessage.Reregister.newBuilder().setAgentInfo(a.info)
                            .addAllTasks(runTasksOf(a)))
                    .build();
            case 1 -> AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                    .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(AgentInfo.newBuilder()
                            .setHostname("new").addAllResources(ResourceText.parse("cpus:2;mem:512").toProto())))
                    .build();
            case 2 -> AgentMessage.newBuilder().setType(AgentMessage.Type.PONG).setAgentId(a.info.getId())
                    .setPong(AgentMessage.Pong.newBuilder().setSequence(random.nextInt(5))).build();
            default -> statusUpdate(a);
        };
        AgentMessage sent = random.nextInt(3) == 0 ? mutator.mutate(valid, 4) : valid;
        if (sent.getType() == AgentMessage.Type.REREGISTER || sent.getType() == AgentMessage.Type.REGISTER) {
            // A (re-)registration comes on a new stream, as a reconnecting agent's would.
            CoreHarness.Agent fresh = h.new Agent();
            fresh.info = a.info;
            fresh.send(sent);
            if (!fresh.ofType(MasterMessage.Type.REGISTERED).isEmpty() && fresh.info.getId().getValue()
                    .equals(fresh.ofType(MasterMessage.Type.REGISTERED).get(0).getRegistered().getAgentId().getValue())) {
                agents.set(agents.indexOf(a), fresh);
            }
        } else {
            a.send(sent);
        }
        return "agent message " + abbreviated(sent);
    }

    /** The tasks the master believes run on {@code a}, as a re-registering agent would report them. */
    private List<io.mezzo.proto.v1.Task> runTasksOf(CoreHarness.Agent a) {
        return h.call(() -> h.core.views().tasks(null).stream()
                .filter(t -> t.getAgentId().equals(a.info.getId()))
                .toList());
    }

    private AgentMessage statusUpdate(CoreHarness.Agent a) {
        List<io.mezzo.proto.v1.Task> tasks = runTasksOf(agents.get(random.nextInt(agents.size())));
        String task = tasks.isEmpty() ? "t0" : tasks.get(random.nextInt(tasks.size())).getTaskId().getValue();
        FrameworkID fw = tasks.isEmpty() ? FrameworkID.newBuilder().setValue("m1-0001").build()
                : tasks.get(0).getFrameworkId();
        TaskState[] states = {TaskState.TASK_RUNNING, TaskState.TASK_FINISHED, TaskState.TASK_FAILED,
            TaskState.TASK_KILLED, TaskState.TASK_LOST};
        return AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(a.info.getId())
                .setStatusUpdate(StatusUpdate.newBuilder().setFrameworkId(fw).setStatus(TaskStatus.newBuilder()
                        .setTaskId(TaskID.newBuilder().setValue(task))
                        .setState(states[random.nextInt(states.length)])
                        .setSource(StatusSource.SOURCE_EXECUTOR)
                        .setUuid(Protos.uuid())))
                .build();
    }

    private String operator() {
        switch (random.nextInt(4)) {
            case 0 -> {
                String id = random.nextBoolean() ? agentId().getValue() : mutator.string();
                if (!io.mezzo.common.validation.Ids.isValid(id)) {
                    return "MarkAgentGone refused at the edge";
                }
                h.run(() -> h.core.markGone(AgentId.of(id), error -> {}));
                return "MarkAgentGone " + abbreviated(id);
            }
            case 1 -> {
                UpdateWeightsRequest request = mutator.mutate(UpdateWeightsRequest.newBuilder()
                        .addWeights(io.mezzo.proto.v1.WeightInfo.newBuilder().setRole("eng").setWeight(2.0)).build(), 3);
                h.run(() -> h.core.updateWeights(request));
                return "UpdateWeights " + abbreviated(request);
            }
            case 2 -> {
                UpdateQuotaRequest request = mutator.mutate(UpdateQuotaRequest.newBuilder()
                        .addQuotas(QuotaConfig.newBuilder().setRole("eng")
                                .putGuarantees("cpus", Value.Scalar.newBuilder().setMilli(1000).build()))
                        .build(), 3);
                h.run(() -> h.core.updateQuota(request));
                return "UpdateQuota " + abbreviated(request);
            }
            default -> {
                AgentId id = AgentId.of(agentId());
                boolean draining = random.nextBoolean();
                h.run(() -> h.core.setDraining(id, draining));
                return "SetDraining " + id + " " + draining;
            }
        }
    }

    private static String abbreviated(Object o) {
        String s = String.valueOf(o).replace('\n', ' ');
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
