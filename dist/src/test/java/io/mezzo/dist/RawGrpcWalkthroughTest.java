package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AllocationInfo;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.SchedulerGrpc;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.proto.v1.Value;
import io.mezzo.testkit.Timeouts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The raw-gRPC walk-through of docs/api.md ("A framework in any language"), step by step, with the
 * generated stubs only (no scheduler library): what a Go, Python or Node author does. If the
 * master ever expects another sequence, this test and the document must change together.
 */
class RawGrpcWalkthroughTest {

    @TempDir
    Path work;

    private Cluster cluster;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        cluster = new Cluster(work);
        cluster.agent("cpus:1;mem:512;disk:512");
        channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.master.port()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        cluster.close();
    }

    @Test
    void subscribeAcceptAcknowledgeTeardown() throws Exception {
        // Step 0: the services, through server reflection (v1, and v1alpha for older tools).
        assertThat(reflectionV1()).contains("mezzo.v1.Scheduler", "mezzo.v1.Operator");
        assertThat(reflectionV1alpha()).contains("mezzo.v1.Scheduler", "mezzo.v1.Operator");

        // Step 1: open Scheduler/Subscribe and send SUBSCRIBE first.
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        StreamObserver<Call> calls = SchedulerGrpc.newStub(channel).subscribe(new StreamObserver<>() {
            @Override
            public void onNext(Event event) {
                inbox.add(event);
            }

            @Override
            public void onError(Throwable t) {
                inbox.add(t);
            }

            @Override
            public void onCompleted() {
                inbox.add("completed");
            }
        });
        calls.onNext(Call.newBuilder()
                .setType(Call.Type.SUBSCRIBE)
                .setSubscribe(Call.Subscribe.newBuilder().setFrameworkInfo(FrameworkInfo.newBuilder()
                        .setName("raw-grpc")
                        .setFailoverTimeout(60)))
                .build());

        // Step 2: SUBSCRIBED carries the framework id every later call names.
        FrameworkID id = next(inbox, Event.Type.SUBSCRIBED).getSubscribed().getFrameworkId();
        assertThat(id.getValue()).isNotEmpty();

        // Step 3: OFFERS; launch one task on an offer with ACCEPT.
        Offer offer = next(inbox, Event.Type.OFFERS).getOffers().getOffers(0);
        String role = offer.getResources(0).getAllocationInfo().getRole();
        TaskInfo task = TaskInfo.newBuilder()
                .setName("hello")
                .setTaskId(TaskID.newBuilder().setValue("hello-1"))
                .setAgentId(offer.getAgentId())
                .addResources(scalar("cpus", 100, role))
                .addResources(scalar("mem", 32_000, role))
                .setCommand(CommandInfo.newBuilder().setShell("echo hello"))
                .build();
        calls.onNext(Call.newBuilder()
                .setFrameworkId(id)
                .setType(Call.Type.ACCEPT)
                .setAccept(Call.Accept.newBuilder()
                        .addOfferIds(offer.getId())
                        .addOperations(Offer.Operation.newBuilder()
                                .setType(Offer.Operation.Type.LAUNCH)
                                .setLaunch(Offer.Operation.Launch.newBuilder().addTaskInfos(task))))
                .build());

        // Step 4: UPDATEs; acknowledge each one that has a uuid, until a terminal state.
        List<TaskState> states = new ArrayList<>();
        TaskStatus status;
        do {
            status = next(inbox, Event.Type.UPDATE).getUpdate().getStatus();
            states.add(status.getState());
            if (!status.getUuid().isEmpty()) {
                calls.onNext(Call.newBuilder()
                        .setFrameworkId(id)
                        .setType(Call.Type.ACKNOWLEDGE)
                        .setAcknowledge(Call.Acknowledge.newBuilder()
                                .setAgentId(status.getAgentId())
                                .setTaskId(status.getTaskId())
                                .setUuid(status.getUuid()))
                        .build());
            }
        } while (status.getState() != TaskState.TASK_FINISHED && status.getState() != TaskState.TASK_FAILED);
        assertThat(states).containsSubsequence(TaskState.TASK_RUNNING, TaskState.TASK_FINISHED);
        assertThat(status.getExitCode()).isZero();

        // Step 5: TEARDOWN is confirmed by TORN_DOWN, then the master ends the stream.
        calls.onNext(Call.newBuilder().setFrameworkId(id).setType(Call.Type.TEARDOWN).build());
        assertThat(next(inbox, Event.Type.TORN_DOWN).getTornDown().getFrameworkId()).isEqualTo(id);
        assertThat(inbox.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("completed");
        calls.onCompleted();
    }

    private static Resource scalar(String name, long milli, String role) {
        return Resource.newBuilder()
                .setName(name)
                .setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(milli))
                .setAllocationInfo(AllocationInfo.newBuilder().setRole(role))
                .build();
    }

    /** The next event of {@code type}; HEARTBEAT and other types in between are skipped. */
    private static Event next(BlockingQueue<Object> inbox, Event.Type type) throws InterruptedException {
        long deadline = System.nanoTime() + Timeouts.PROCESS.toNanos();
        while (true) {
            Object o = inbox.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            assertThat(o).as("waiting for %s", type).isInstanceOf(Event.class);
            Event e = (Event) o;
            assertThat(e.getType()).as("no ERROR on the way: %s", e).isNotEqualTo(Event.Type.ERROR);
            if (e.getType() == type) {
                return e;
            }
        }
    }

    private List<String> reflectionV1() throws InterruptedException {
        BlockingQueue<io.grpc.reflection.v1.ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
        StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests =
                io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel).serverReflectionInfo(collect(answers));
        requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        var answer = answers.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(answer).isNotNull();
        return answer.getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList();
    }

    private List<String> reflectionV1alpha() throws InterruptedException {
        BlockingQueue<io.grpc.reflection.v1alpha.ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
        StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> requests =
                io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel).serverReflectionInfo(collect(answers));
        requests.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        var answer = answers.poll(Timeouts.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(answer).as("v1alpha answered (not UNIMPLEMENTED)").isNotNull();
        return answer.getListServicesResponse().getServiceList().stream().map(s -> s.getName()).toList();
    }

    private static <T> StreamObserver<T> collect(BlockingQueue<T> into) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                into.add(value);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }
}
