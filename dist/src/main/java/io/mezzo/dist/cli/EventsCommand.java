package io.mezzo.dist.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.OperatorEvent;
import io.mezzo.proto.v1.SubscribeRequest;
import io.mezzo.proto.v1.Task;
import java.io.PrintStream;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mezzo events}: the operator event stream ({@code Operator.Subscribe}) for people and
 * scripts. Without {@code -f} it prints the current state as events and exits; with {@code -f} it
 * goes on printing every change, and follows the leader across failovers (subscribing again, which
 * prints the state again).
 */
@Command(name = "events", mixinStandardHelpOptions = true,
        description = {"Prints the cluster's agents, frameworks and tasks, then (with -f) every change as it happens:"
                + " one line per event, or one JSON object per line with --json. Exit 1 when the master ends the"
                + " stream (without -f, or for a reason other than a failover)."})
final class EventsCommand implements Callable<Integer> {

    @Mixin
    MasterOptions masterOptions;

    @Option(names = {"-f", "--follow"},
            description = "Keep printing changes until interrupted. Default: print the state and exit.")
    boolean follow;

    @Option(names = "--json", description = "One JSON object per line (the OperatorEvent message, proto field names)."
            + " Default: one readable line per event.")
    boolean json;

    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames()
            .omittingInsignificantWhitespace();

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        try (LeaderConnection leader = masterOptions.connect()) {
            while (true) {
                BlockingQueue<Object> q = new LinkedBlockingQueue<>();
                leader.operatorStream().subscribe(SubscribeRequest.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(OperatorEvent e) {
                        q.add(e);
                    }

                    @Override
                    public void onError(Throwable t) {
                        q.add(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        q.add(Status.OK);
                    }
                });
                while (true) {
                    Object next = q.take();
                    if (next instanceof Status s) {
                        if (!follow || s.getCode() != Status.Code.UNAVAILABLE) {
                            System.err.println("mezzo events: the stream ended: " + s.getCode()
                                    + (s.getDescription() == null ? "" : " " + s.getDescription()));
                            return 1;
                        }
                        System.err.println("mezzo events: the leader went away (" + s.getDescription()
                                + "); following the new one");
                        leader.refresh();
                        break;
                    }
                    OperatorEvent e = (OperatorEvent) next;
                    print(out, e);
                    if (e.getType() == OperatorEvent.Type.SUBSCRIBED && !follow) {
                        return 0;
                    }
                }
            }
        }
    }

    private void print(PrintStream out, OperatorEvent e) throws InvalidProtocolBufferException {
        if (json) {
            out.println(JSON.print(e));
        } else {
            String when = Instant.ofEpochMilli(Math.round(e.getTime() * 1000)).toString();
            if (e.getType() == OperatorEvent.Type.SUBSCRIBED) {
                GetStateResponse s = e.getSubscribed().getState();
                out.println(when + " SUBSCRIBED leader=" + s.getMasterInfo().getIp() + ":" + s.getMasterInfo().getPort()
                        + " agents=" + s.getAgentsCount() + " frameworks=" + s.getFrameworksCount() + " tasks="
                        + s.getTasksCount());
                s.getAgentsList().forEach(a -> out.println(when + " AGENT " + agent(a)));
                s.getFrameworksList().forEach(f -> out.println(when + " FRAMEWORK " + framework(f)));
                s.getTasksList().forEach(t -> out.println(when + " TASK " + task(t)));
            } else if (e.getType() != OperatorEvent.Type.HEARTBEAT) {
                out.println(when + " " + e.getType() + " " + switch (e.getType()) {
                    case TASK_ADDED, TASK_UPDATED -> task(e.getTask());
                    case AGENT_ADDED, AGENT_REMOVED, AGENT_UPDATED -> agent(e.getAgent());
                    case FRAMEWORK_ADDED, FRAMEWORK_UPDATED, FRAMEWORK_REMOVED -> framework(e.getFramework());
                    case LEADER_CHANGED -> e.hasLeader() ? "leader=" + e.getLeader().getIp() + ":" + e.getLeader().getPort()
                            : "leader=unknown";
                    default -> "";
                });
            }
        }
        out.flush();
    }

    private static String task(Task t) {
        String reason = t.getLatestStatus().getReason().getNumber() == 0 ? "" : " reason=" + t.getLatestStatus().getReason();
        return "task=" + t.getTaskId().getValue() + " framework=" + t.getFrameworkId().getValue() + " agent="
                + t.getAgentId().getValue() + " state=" + t.getState() + reason;
    }

    private static String agent(AgentView a) {
        return "agent=" + a.getAgentInfo().getId().getValue() + " hostname=" + a.getAgentInfo().getHostname()
                + " state=" + a.getState() + " connected=" + a.getConnected();
    }

    private static String framework(FrameworkView f) {
        return "framework=" + f.getFrameworkInfo().getId().getValue() + " name=" + f.getFrameworkInfo().getName()
                + " state=" + f.getState();
    }
}
