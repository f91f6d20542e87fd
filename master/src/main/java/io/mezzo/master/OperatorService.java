package io.mezzo.master;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.loop.EventLoop;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mezzo.common.id.AgentId;
import io.mezzo.proto.v1.AgentOperatorGrpc;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The operator API edge: each read is computed on the master's loop by {@link StateViews} (so it
 * sees one consistent state) and answered from the future; each change is validated, persisted
 * and applied on the loop ({@link RoleSettingsManager}, {@link AgentManager} through {@link
 * MasterCore}), and answered once it is in force. Owner: {@link Master}. Runs on gRPC threads.
 */
final class OperatorService extends OperatorGrpc.OperatorImplBase {

    private final EventLoop loop;
    private final MasterCore core;
    /** The core's read-only views; called on the loop only (through {@code loop.call}). */
    private final StateViews views;
    private final Leadership leadership;
    private final MasterHealth health;
    private final OperatorEvents events;

    OperatorService(EventLoop loop, MasterCore core, Leadership leadership, MasterHealth health, OperatorEvents events) {
        this.events = events;
        this.loop = loop;
        this.core = core;
        this.views = core.views();
        this.leadership = leadership;
        this.health = health;
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
        events.subscribe(out);
    }

    @Override
    public void getState(GetStateRequest request, StreamObserver<GetStateResponse> out) {
        fromSnapshot(out, () -> core.snapshot().state());
    }

    @Override
    public void getAgents(GetAgentsRequest request, StreamObserver<GetAgentsResponse> out) {
        fromSnapshot(out, () -> GetAgentsResponse.newBuilder().addAllAgents(core.snapshot().state().getAgentsList()).build());
    }

    @Override
    public void getFrameworks(GetFrameworksRequest request, StreamObserver<GetFrameworksResponse> out) {
        fromSnapshot(out, () -> GetFrameworksResponse.newBuilder()
                .addAllFrameworks(core.snapshot().state().getFrameworksList()).build());
    }

    @Override
    public void getTasks(GetTasksRequest request, StreamObserver<GetTasksResponse> out) {
        if (request.getOffset() < 0 || request.getLimit() < 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("offset and limit must not be negative").asRuntimeException());
            return;
        }
        fromSnapshot(out, () -> core.snapshot().tasks(request));
    }

    @Override
    public void getRoles(GetRolesRequest request, StreamObserver<GetRolesResponse> out) {
        answer(out, views::roles);
    }

    @Override
    public void updateWeights(UpdateWeightsRequest request, StreamObserver<UpdateWeightsResponse> out) {
        change(out, () -> core.updateWeights(request), UpdateWeightsResponse.getDefaultInstance());
    }

    @Override
    public void updateQuota(UpdateQuotaRequest request, StreamObserver<UpdateQuotaResponse> out) {
        change(out, () -> core.updateQuota(request), UpdateQuotaResponse.getDefaultInstance());
    }

    @Override
    public void getAgentContainers(GetAgentContainersRequest request, StreamObserver<GetContainersResponse> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        if (request.getAgentId().getValue().isEmpty()) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("agent_id is empty").asRuntimeException());
            return;
        }
        AgentId id = AgentId.of(request.getAgentId());
        loop.call(() -> views.agentEndpoint(id)).orTimeout(10, TimeUnit.SECONDS).whenComplete((endpoint, error) -> {
            if (error != null) {
                out.onError(Status.UNAVAILABLE.withDescription("master did not answer: " + error).asRuntimeException());
            } else if (endpoint.isEmpty()) {
                out.onError(Status.NOT_FOUND.withDescription("agent " + id + " is not connected").asRuntimeException());
            } else {
                askAgent(endpoint.get(), out);
            }
        });
    }

    @Override
    public void markAgentGone(MarkAgentGoneRequest request, StreamObserver<MarkAgentGoneResponse> out) {
        if (!leadership.leading()) {
            out.onError(leadership.notLeader());
            return;
        }
        if (request.getAgentId().getValue().isEmpty()) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("agent_id is empty").asRuntimeException());
            return;
        }
        AgentId id = AgentId.of(request.getAgentId());
        loop.append(() -> core.markGone(id, error -> {
            if (error == null) {
                out.onNext(MarkAgentGoneResponse.getDefaultInstance());
                out.onCompleted();
            } else {
                out.onError((error.contains("not known") ? Status.NOT_FOUND : Status.UNAVAILABLE)
                        .withDescription(error).asRuntimeException());
            }
        }));
    }

    /** Asks the agent itself, off the loop: the master keeps no usage samples. */
    private static void askAgent(String endpoint, StreamObserver<GetContainersResponse> out) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
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
