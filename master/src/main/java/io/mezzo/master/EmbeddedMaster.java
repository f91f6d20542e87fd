package io.mezzo.master;

import io.grpc.stub.StreamObserver;
import io.mezzo.common.loop.EventLoop;
import io.mezzo.ha.registry.Registry;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.GetStateResponse;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import java.util.function.Consumer;

/**
 * A master without a server or an election of its own: its {@link MasterCore} runs on a loop the
 * caller owns, streams reach it through the same gRPC service classes as in {@link Master} (the
 * caller provides the server-side observers), and the caller plays the election. The seam of the
 * deterministic simulator ({@code io.mezzo.sim}), which runs several masters, their registry and
 * election, agents and schedulers in one thread on a virtual clock (an {@link EventLoop#manual}
 * loop). Production code uses {@link Master}; nothing here changes how a master behaves.
 *
 * <pre>
 *   caller's transport --subscribe/connect--> SchedulerService / AgentLinkService --append--> loop --> MasterCore
 *   caller's election  --elected/suspended/reconnected/lost--> Leadership + MasterCore (as Master does)
 * </pre>
 *
 * <p>Thread: the caller's; with a manual loop that is the loop thread, so {@link #state()} reads
 * the core directly. Owner: the simulator.
 */
public final class EmbeddedMaster {

    private final EventLoop loop;
    private final MasterCore core;
    private final Leadership leadership = new Leadership();
    private final SchedulerService schedulers;
    private final AgentLinkService agents;
    private boolean lost;

    /**
     * A master that serves UNAVAILABLE until {@link #elected}.
     *
     * @param stepDown told (on the loop) when the master gives leadership up for good, as {@link
     *     Master} tells its election
     */
    public EmbeddedMaster(MasterConfig config, EventLoop loop, String idPrefix, long allocatorSeed,
            Consumer<String> stepDown) {
        this.loop = loop;
        this.core = new MasterCore(config, loop, idPrefix, allocatorSeed, reason -> {
            lose(reason);
            stepDown.accept(reason);
        });
        this.schedulers = new SchedulerService(loop, core, leadership, new MasterFaults(null),
                config.outboundQueueCapacity());
        this.agents = new AgentLinkService(loop, core, leadership, config.outboundQueueCapacity());
    }

    /**
     * Opens a scheduler stream, as a gRPC {@code Subscribe} call does. {@code toScheduler} must be a
     * {@code ServerCallStreamObserver}, as gRPC hands the service.
     */
    public StreamObserver<Call> subscribe(StreamObserver<Event> toScheduler) {
        return schedulers.subscribe(toScheduler);
    }

    /** Opens an agent stream, as a gRPC {@code Connect} call does. */
    public StreamObserver<AgentMessage> connect(StreamObserver<MasterMessage> toAgent) {
        return agents.connect(toAgent);
    }

    /**
     * Elected with {@code info} (carrying its epoch): reads the registry and leads, as {@link Master}
     * does when its election says so.
     */
    public void elected(MasterInfo info, Registry registry) {
        RegistryRecords.Recovered recovered = RegistryRecords.decode(registry.readAll());
        loop.append(() -> core.becomeLeader(info, registry, recovered));
        leadership.lead(info);
    }

    /** The coordination session is suspended: stop acting. */
    public void suspended() {
        leadership.stopLeading();
        loop.append(core::suspend);
    }

    /** The session came back while this master still leads: act again. */
    public void reconnected(MasterInfo info) {
        loop.append(core::resume);
        leadership.lead(info);
    }

    /** Leadership is lost for good (session expired, or stepped down). */
    public void lost(String reason) {
        lose(reason);
    }

    /** Who the caller's detector says leads (null: nobody), for the "not the leader" answers. */
    public void leaderIs(MasterInfo leader) {
        leadership.leaderIs(leader);
    }

    /** Whether this master acts as leader now. */
    public boolean acting() {
        return leadership.leading();
    }

    /** Everything the master knows, as the operator API's GetState shows it. Loop thread. */
    public GetStateResponse state() {
        return core.views().state();
    }

    /**
     * The agents and the live tasks only (no offers, frameworks or completed tasks): what the
     * simulator checks after every step, cheaper than {@link #state()}. Loop thread.
     */
    public GetStateResponse agentsAndTasks() {
        return GetStateResponse.newBuilder()
                .addAllAgents(core.views().agentViews())
                .addAllTasks(core.views().tasks(null))
                .build();
    }

    /**
     * Launches in flight as the master's admission control counts them (tasks sent that their agent
     * has not yet reported on), stale entries pruned. Loop thread.
     */
    public int launchesInFlight() {
        return core.launchesInFlight();
    }

    /** MarkAgentGone, as an operator calls it: {@code done} hears null or why it was refused. */
    public void markGone(String agentId, Consumer<String> done) {
        loop.append(() -> core.markGone(io.mezzo.common.id.AgentId.of(agentId), done));
    }

    /**
     * DrainAgent, as an operator calls it: {@code done} hears null once the drain is durable and in
     * force, or why it was refused.
     */
    public void drainAgent(String agentId, io.mezzo.proto.v1.DrainConfig config, Consumer<String> done) {
        loop.append(() -> core.drainAgent(io.mezzo.common.id.AgentId.of(agentId), config,
                status -> done.accept(status == null ? null : status.getCode() + ": " + status.getDescription())));
    }

    /** ReactivateAgent, as an operator calls it: {@code done} hears null or why it was refused. */
    public void reactivateAgent(String agentId, Consumer<String> done) {
        loop.append(() -> core.reactivateAgent(io.mezzo.common.id.AgentId.of(agentId),
                status -> done.accept(status == null ? null : status.getCode() + ": " + status.getDescription())));
    }

    private void lose(String reason) {
        if (lost) {
            return;
        }
        lost = true;
        leadership.stopLeading();
        loop.append(() -> core.stop(reason));
    }
}
