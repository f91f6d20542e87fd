package io.mezzo.master;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.loop.EventLoop;
import io.grpc.ManagedChannel;
import io.grpc.Grpc;
import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.validation.Ids;
import io.mezzo.proto.v1.AgentOperatorGrpc;
import io.mezzo.proto.v1.DrainAgentRequest;
import io.mezzo.proto.v1.DrainAgentResponse;
import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.GetMaintenanceScheduleRequest;
import io.mezzo.proto.v1.GetMaintenanceScheduleResponse;
import io.mezzo.proto.v1.KillTaskRequest;
import io.mezzo.proto.v1.KillTaskResponse;
import io.mezzo.proto.v1.ReactivateAgentRequest;
import io.mezzo.proto.v1.ReactivateAgentResponse;
import io.mezzo.proto.v1.TeardownFrameworkRequest;
import io.mezzo.proto.v1.TeardownFrameworkResponse;
import io.mezzo.proto.v1.UpdateMaintenanceScheduleRequest;
import io.mezzo.proto.v1.UpdateMaintenanceScheduleResponse;
import io.mezzo.proto.v1.GetAgentContainersRequest;
import io.mezzo.proto.v1.GetContainersRequest;
import io.mezzo.proto.v1.GetContainersResponse;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.MarkAgentGoneRequest;
import io.mezzo.proto.v1.MarkAgentGoneResponse;
import io.mezzo.proto.v1.GetAgentsResponse;
import io.mezzo.proto.v1.GetFrameworksRequest;
import io.mezzo.proto.v1.GetFrameworksResponse;
import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.GetRolesRequest;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.GetStateRequest;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.GetTasksRequest;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.OperatorEvent;
import io.mezzo.proto.v1.OperatorGrpc;
import io.mezzo.proto.v1.SubscribeRequest;
import io.mezzo.proto.v1.UpdateQuotaRequest;
import io.mezzo.proto.v1.UpdateQuotaResponse;
import io.mezzo.proto.v1.UpdateWeightsRequest;
import io.mezzo.proto.v1.UpdateWeightsResponse;
import io.mezzo.common.security.TlsContext;
import io.mezzo.master.auth.Acls;
import io.mezzo.master.auth.Action;
import io.mezzo.master.auth.Audit;
import io.mezzo.master.auth.AuthContext;
import io.mezzo.master.auth.ViewFilter;
import io.mezzo.master.validation.MaintenanceValidation;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The operator API edge: each read is computed on the master's loop by {@link StateViews} (so it
 * sees one consistent state) and answered from the future; each change is validated, persisted
 * and applied on the loop ({@link RoleSettingsManager}, {@link AgentManager} through {@link
 * MasterCore}), and answered once it is in force. Owner: {@link Master}. Runs on gRPC threads.
 */
final class OperatorService extends OperatorGrpc.OperatorImplBase {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OperatorService.class);

    private final EventLoop loop;
    private final MasterCore core;
    /** The core's read-only views; called on the loop only (through {@code loop.call}). */
    private final StateViews views;
    private final Leadership leadership;
    private final MasterHealth health;
    private final OperatorEvents events;
    private final Acls acls;
    private final TlsContext tls;

    OperatorService(EventLoop loop, MasterCore core, Leadership leadership, MasterHealth health, OperatorEvents events) {
        this(loop, core, leadership, health, events, Acls.PERMISSIVE, null);
    }

    /**
     * @param acls what operators may change and see
     * @param tls how to call agents (GetAgentContainers); null for plaintext
     */
    OperatorService(EventLoop loop, MasterCore core, Leadership leadership, MasterHealth health, OperatorEvents events,
            Acls acls, TlsContext tls) {
        this.events = events;
        this.loop = loop;
        this.core = core;
        this.views = core.views();
        this.leadership = leadership;
        this.health = health;
        this.acls = acls;
        this.tls = tls;
    }

    /** What the current caller may see. */
    private ViewFilter filter() {
        return new ViewFilter(acls, AuthContext.principal());
    }

    /**
     * The ACL check of a mutating call, with its audit line when refused: true when the call may go
     * on (the caller then audits its outcome), false when it was answered PERMISSION_DENIED.
     */
    private boolean authorized(StreamObserver<?> out, String call, Action action, List<String> objects) {
        return authorized(out, call, action, objects, String.join(",", objects));
    }

    /** As above; the audit line names {@code target} (what the call acts on) instead of the ACL objects. */
    private boolean authorized(StreamObserver<?> out, String call, Action action, List<String> objects,
            String target) {
        String principal = AuthContext.principal();
        for (String object : objects) {
            String deny = acls.deny(action, principal, object);
            if (deny != null) {
                LOG.warn("Refused {} from {}: permission denied: {}", call, PeerInterceptor.peer(), deny);
                Audit.record(principal, PeerInterceptor.peer(), call, target, "denied: " + deny);
                out.onError(Status.PERMISSION_DENIED.withDescription(deny).asRuntimeException());
                return false;
            }
        }
        return true;
    }

    /** Wraps {@code out} so that the call's outcome is audited once. */
    private static <T> StreamObserver<T> audited(StreamObserver<T> out, String call, String objects) {
        String principal = AuthContext.principal();
        String peer = PeerInterceptor.peer();
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                out.onNext(value);
            }

            @Override
            public void onError(Throwable t) {
                Status s = Status.fromThrowable(t);
                Audit.record(principal, peer, call, objects, "failed: " + s.getCode() + " " + s.getDescription());
                out.onError(t);
            }

            @Override
            public void onCompleted() {
                Audit.record(principal, peer, call, objects, "ok");
                out.onCompleted();
            }
        };
    }

    @Override
    public void getHealth(GetHealthRequest request, StreamObserver<GetHealthResponse> out) {
        // Answered by every master, leading or not, so that tools can find the leader.
        health.check().whenComplete((h, error) -> {
            out.onNext(h);
            out.onCompleted();
        });
    }

    @Override
    public void subscribe(SubscribeRequest request, StreamObserver<OperatorEvent> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        if (!filter().passesAll()) {
            // The stream carries every framework, agent and task; it is not filtered per principal yet.
            String deny = "Subscribe shows the whole cluster and is refused while --acls restrict views";
            LOG.warn("Refused Subscribe from {}: permission denied: {}", PeerInterceptor.peer(), deny);
            out.onError(Status.PERMISSION_DENIED.withDescription(deny).asRuntimeException());
            return;
        }
        events.subscribe(out);
    }

    @Override
    public void getState(GetStateRequest request, StreamObserver<GetStateResponse> out) {
        ViewFilter filter = filter();
        fromSnapshot(out, () -> filter.state(core.snapshot().state()));
    }

    @Override
    public void getAgents(GetAgentsRequest request, StreamObserver<GetAgentsResponse> out) {
        ViewFilter filter = filter();
        fromSnapshot(out, () -> GetAgentsResponse.newBuilder()
                .addAllAgents(filter.agents(core.snapshot().state().getAgentsList())).build());
    }

    @Override
    public void getFrameworks(GetFrameworksRequest request, StreamObserver<GetFrameworksResponse> out) {
        ViewFilter filter = filter();
        fromSnapshot(out, () -> GetFrameworksResponse.newBuilder()
                .addAllFrameworks(filter.frameworks(core.snapshot().state().getFrameworksList())).build());
    }

    @Override
    public void getTasks(GetTasksRequest request, StreamObserver<GetTasksResponse> out) {
        if (request.getOffset() < 0 || request.getLimit() < 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("offset and limit must not be negative").asRuntimeException());
            return;
        }
        ViewFilter filter = filter();
        fromSnapshot(out, () -> {
            StateSnapshot current = core.snapshot();
            GetTasksResponse page = current.tasks(request);
            if (filter.passesAll()) {
                return page;
            }
            var frameworks = current.state().getFrameworksList();
            return page.toBuilder()
                    .clearTasks().addAllTasks(filter.tasks(page.getTasksList(), frameworks))
                    .clearCompletedTasks().addAllCompletedTasks(filter.tasks(page.getCompletedTasksList(), frameworks))
                    .build();
        });
    }

    @Override
    public void getRoles(GetRolesRequest request, StreamObserver<GetRolesResponse> out) {
        answer(out, views::roles);
    }

    @Override
    public void updateWeights(UpdateWeightsRequest request, StreamObserver<UpdateWeightsResponse> out) {
        List<String> roles = request.getWeightsList().stream().map(w -> w.getRole()).toList();
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        if (authorized(out, "UpdateWeights", Action.UPDATE_WEIGHTS, roles)) {
            change(audited(out, "UpdateWeights", String.join(",", roles)), () -> core.updateWeights(request),
                    UpdateWeightsResponse.getDefaultInstance());
        }
    }

    @Override
    public void updateQuota(UpdateQuotaRequest request, StreamObserver<UpdateQuotaResponse> out) {
        List<String> roles = request.getQuotasList().stream().map(q -> q.getRole()).toList();
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        if (authorized(out, "UpdateQuota", Action.UPDATE_QUOTAS, roles)) {
            change(audited(out, "UpdateQuota", String.join(",", roles)), () -> core.updateQuota(request),
                    UpdateQuotaResponse.getDefaultInstance());
        }
    }

    @Override
    public void getAgentContainers(GetAgentContainersRequest request, StreamObserver<GetContainersResponse> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        String idError = Ids.validate("agent_id", request.getAgentId().getValue());
        if (idError != null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(idError).asRuntimeException());
            return;
        }
        AgentId id = AgentId.of(request.getAgentId());
        loop.call(() -> views.agentEndpoint(id)).orTimeout(10, TimeUnit.SECONDS).whenComplete((endpoint, error) -> {
            if (error != null) {
                out.onError(Status.UNAVAILABLE.withDescription("master did not answer: " + error).asRuntimeException());
            } else if (endpoint.isEmpty()) {
                out.onError(Status.NOT_FOUND.withDescription("agent " + id + " is not connected").asRuntimeException());
            } else {
                askAgent(endpoint.get(), tls, out);
            }
        });
    }

    @Override
    public void markAgentGone(MarkAgentGoneRequest request, StreamObserver<MarkAgentGoneResponse> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        String idError = Ids.validate("agent_id", request.getAgentId().getValue());
        if (idError != null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(idError).asRuntimeException());
            return;
        }
        AgentId id = AgentId.of(request.getAgentId());
        if (!authorized(out, "MarkAgentGone", Action.MARK_AGENTS_GONE, List.of(id.value()))) {
            return;
        }
        StreamObserver<MarkAgentGoneResponse> audited = audited(out, "MarkAgentGone", id.value());
        loop.append(() -> core.markGone(id, error -> {
            if (error == null) {
                audited.onNext(MarkAgentGoneResponse.getDefaultInstance());
                audited.onCompleted();
            } else {
                audited.onError((error.contains("not known") ? Status.NOT_FOUND : Status.UNAVAILABLE)
                        .withDescription(error).asRuntimeException());
            }
        }));
    }

    @Override
    public void drainAgent(DrainAgentRequest request, StreamObserver<DrainAgentResponse> out) {
        AgentId id = agentIdOrRefuse(request.getAgentId(), out);
        if (id == null || !authorized(out, "DrainAgent", Action.DRAIN_AGENTS, List.of(id.value()))) {
            return;
        }
        DrainConfig config = DrainConfig.newBuilder().setMarkGone(request.getMarkGone()).build();
        if (request.hasMaxGracePeriod()) {
            config = config.toBuilder().setMaxGracePeriod(request.getMaxGracePeriod()).build();
        }
        DrainConfig drain = config;
        StreamObserver<DrainAgentResponse> audited = audited(out, "DrainAgent", id.value());
        loop.append(() -> core.drainAgent(id, drain, reply(audited, DrainAgentResponse.getDefaultInstance())));
    }

    @Override
    public void reactivateAgent(ReactivateAgentRequest request, StreamObserver<ReactivateAgentResponse> out) {
        AgentId id = agentIdOrRefuse(request.getAgentId(), out);
        if (id == null || !authorized(out, "ReactivateAgent", Action.DRAIN_AGENTS, List.of(id.value()))) {
            return;
        }
        StreamObserver<ReactivateAgentResponse> audited = audited(out, "ReactivateAgent", id.value());
        loop.append(() -> core.reactivateAgent(id, reply(audited, ReactivateAgentResponse.getDefaultInstance())));
    }

    @Override
    public void updateMaintenanceSchedule(UpdateMaintenanceScheduleRequest request,
            StreamObserver<UpdateMaintenanceScheduleResponse> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        String idError = MaintenanceValidation.validateAgentIds(request.getWindowsList());
        if (idError != null) {
            LOG.info("Refused UpdateMaintenanceSchedule: {}", idError);
            out.onError(Status.INVALID_ARGUMENT.withDescription(idError).asRuntimeException());
            return;
        }
        List<String> agentIds = request.getWindowsList().stream()
                .flatMap(w -> w.getAgentIdsList().stream().map(a -> a.getValue())).toList();
        if (!authorized(out, "UpdateMaintenanceSchedule", Action.DRAIN_AGENTS, agentIds)) {
            return;
        }
        StreamObserver<UpdateMaintenanceScheduleResponse> audited =
                audited(out, "UpdateMaintenanceSchedule", String.join(",", agentIds));
        loop.append(() -> core.updateMaintenance(request.getWindowsList(),
                reply(audited, UpdateMaintenanceScheduleResponse.getDefaultInstance())));
    }

    @Override
    public void getMaintenanceSchedule(GetMaintenanceScheduleRequest request,
            StreamObserver<GetMaintenanceScheduleResponse> out) {
        answer(out, () -> GetMaintenanceScheduleResponse.newBuilder().addAllWindows(core.maintenanceSchedule()).build());
    }

    @Override
    public void killTask(KillTaskRequest request, StreamObserver<KillTaskResponse> out) {
        String taskError = Ids.validate("task_id", request.getTaskId().getValue());
        if (taskError != null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(taskError).asRuntimeException());
            return;
        }
        FrameworkId fid = frameworkIdOrRefuse(request.getFrameworkId(), out);
        if (fid == null) {
            return;
        }
        TaskId task = TaskId.of(request.getTaskId());
        String call = "KillTask";
        withFrameworkPrincipal(fid, out, principal -> {
            if (authorized(out, call, Action.KILL_TASKS, List.of(principal), fid.value() + "/" + task.value())) {
                StreamObserver<KillTaskResponse> audited = audited(out, call, fid.value() + "/" + task.value());
                loop.append(() -> reply(audited, KillTaskResponse.getDefaultInstance()).accept(core.killTask(fid, task)));
            }
        });
    }

    @Override
    public void teardownFramework(TeardownFrameworkRequest request, StreamObserver<TeardownFrameworkResponse> out) {
        FrameworkId fid = frameworkIdOrRefuse(request.getFrameworkId(), out);
        if (fid == null) {
            return;
        }
        withFrameworkPrincipal(fid, out, principal -> {
            if (authorized(out, "TeardownFramework", Action.TEARDOWN_FRAMEWORKS, List.of(principal), fid.value())) {
                StreamObserver<TeardownFrameworkResponse> audited = audited(out, "TeardownFramework", fid.value());
                loop.append(() -> core.teardownFramework(fid,
                        reply(audited, TeardownFrameworkResponse.getDefaultInstance())));
            }
        });
    }

    /** The request's agent id, or null after answering NOT leader / INVALID_ARGUMENT. */
    private AgentId agentIdOrRefuse(io.mezzo.proto.v1.AgentID id, StreamObserver<?> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return null;
        }
        String error = Ids.validate("agent_id", id.getValue());
        if (error != null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(error).asRuntimeException());
            return null;
        }
        return AgentId.of(id);
    }

    /** The request's framework id, or null after answering NOT leader / INVALID_ARGUMENT. */
    private FrameworkId frameworkIdOrRefuse(io.mezzo.proto.v1.FrameworkID id, StreamObserver<?> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return null;
        }
        String error = Ids.validate("framework_id", id.getValue());
        if (error != null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(error).asRuntimeException());
            return null;
        }
        return FrameworkId.of(id);
    }

    /**
     * Looks up the framework's principal on the loop (the object of the teardown and kill ACLs),
     * then goes on with it on this caller's context; NOT_FOUND when the framework is not known.
     */
    private void withFrameworkPrincipal(FrameworkId id, StreamObserver<?> out, Consumer<String> then) {
        io.grpc.Context context = io.grpc.Context.current();
        loop.call(() -> views.frameworkPrincipal(id)).orTimeout(10, TimeUnit.SECONDS).whenComplete((principal, error) -> {
            if (error != null) {
                out.onError(Status.UNAVAILABLE.withDescription("master did not answer: " + error).asRuntimeException());
            } else if (principal.isEmpty()) {
                out.onError(Status.NOT_FOUND.withDescription("framework " + id + " is not known or already removed")
                        .asRuntimeException());
            } else {
                context.run(() -> then.accept(principal.get()));
            }
        });
    }

    /** Answers {@code out} with {@code ok} when the core's outcome is null, else with its status. */
    private static <T> Consumer<Status> reply(StreamObserver<T> out, T ok) {
        return status -> {
            if (status == null) {
                out.onNext(ok);
                out.onCompleted();
            } else {
                out.onError(status.asRuntimeException());
            }
        };
    }

    /** Asks the agent itself, off the loop: the master keeps no usage samples. */
    private static void askAgent(String endpoint, TlsContext tls, StreamObserver<GetContainersResponse> out) {
        ManagedChannel channel = Grpc.newChannelBuilder(endpoint, TlsContext.channelCredentials(tls)).build();
        AgentOperatorGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getContainers(GetContainersRequest.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(GetContainersResponse value) {
                        out.onNext(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        channel.shutdownNow();
                        Status s = Status.fromThrowable(t);
                        out.onError(s.withDescription("agent at " + endpoint + ": " + s.getDescription()).asRuntimeException());
                    }

                    @Override
                    public void onCompleted() {
                        channel.shutdownNow();
                        out.onCompleted();
                    }
                });
    }

    /**
     * Starts a change on the loop and answers when it is in force: INVALID_ARGUMENT (nothing
     * changed) as the core refused it, UNAVAILABLE when it could not be persisted or the master did
     * not answer.
     */
    private <T> void change(StreamObserver<T> out, Supplier<CompletableFuture<Void>> write, T reply) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        loop.call(write).thenCompose(f -> f).orTimeout(10, TimeUnit.SECONDS).whenComplete((ok, error) -> {
            if (error == null) {
                out.onNext(reply);
                out.onCompleted();
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof StatusRuntimeException status) {
                out.onError(status);
            } else {
                out.onError(Status.UNAVAILABLE.withDescription("master did not apply the change: " + cause)
                        .asRuntimeException());
            }
        });
    }

    /** Answers from the state the loop last published: nothing runs on the loop. */
    private <T> void fromSnapshot(StreamObserver<T> out, Supplier<T> read) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        out.onNext(read.get());
        out.onCompleted();
    }

    private <T> void answer(StreamObserver<T> out, Supplier<T> read) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        CompletableFuture<T> result = loop.call(read).orTimeout(10, TimeUnit.SECONDS);
        result.whenComplete((value, error) -> {
            if (error != null) {
                out.onError(Status.UNAVAILABLE.withDescription("master did not answer: " + error).asRuntimeException());
            } else {
                out.onNext(value);
                out.onCompleted();
            }
        });
    }
}
