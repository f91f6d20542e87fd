package io.mezzo.dist.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.ha.zk.ZkMasterDetector;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.SchedulerGrpc;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.ZkEnsemble;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Failover time with simulated agents over real gRPC: from the leader's loss to (a) a new leader
 * elected, (b) the first offer of the new leader to a resubscribed framework, (c) every agent
 * re-registered, each agent reporting 10 running tasks.
 *
 * <p>Everything runs in this JVM on 127.0.0.1: a 3-server ZooKeeper ensemble, two masters, the
 * simulated agents (raw AgentLink streams multiplexed over a few channels) and a raw scheduler
 * stream. A "crash" cuts the leader off: its ZooKeeper traffic (through a proxy) is dropped and its
 * gRPC server stops, so its session expires on the servers after the session timeout (2 s here);
 * a "graceful" stop closes it (it gives leadership up at once). Not a test: it asserts nothing and
 * is not run by the build. The crash goes through the master's fault-injection seam ({@code
 * Master.faults()}). Run it on the reactor's class path (nothing installed):
 *
 * <pre>
 * mvn -B -ntp -q -DskipTests -pl dist -am package dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -cp dist/target/test-classes:dist/target/classes:$(cat /tmp/cp.txt) \
 *     io.mezzo.dist.bench.FailoverBenchmark 10 1000 10000
 * </pre>
 */
public final class FailoverBenchmark {

    private static final int TASKS_PER_AGENT = 10;
    private static final Duration SESSION = Duration.ofSeconds(2);
    private static final int CHANNELS = 8;

    private FailoverBenchmark() {}

    /** Runs a warm-up round, then one crash and one graceful round per agent count given. */
    public static void main(String[] args) throws Exception {
        List<Integer> counts = new ArrayList<>();
        for (String a : args.length == 0 ? new String[] {"10", "1000", "10000"} : args) {
            counts.add(Integer.parseInt(a));
        }
        System.out.printf("machine: %d cores, Java %s, max heap %d MB%n", Runtime.getRuntime().availableProcessors(),
                Runtime.version(), Runtime.getRuntime().maxMemory() >> 20);
        run(100, true, false);
        System.out.println("| agents | stop | (a) elected after loss | (b) first offer after (a) | (c) all re-registered after (a) |");
        System.out.println("|---:|---|---:|---:|---:|");
        for (int n : counts) {
            run(n, true, true);
            run(n, false, true);
        }
    }

    private static void run(int agentCount, boolean crash, boolean print) throws Exception {
        try (ZkEnsemble zk = new ZkEnsemble(3); Round round = new Round(zk, agentCount)) {
            long[] result = round.failover(crash);
            if (print) {
                System.out.printf("| %d | %s | %d ms | %d ms | %d ms |%n", agentCount, crash ? "crash (session 2 s)" : "graceful",
                        result[0], result[1], result[2]);
            }
        }
    }

    /** One cluster: two masters, simulated agents, one framework. */
    private static final class Round implements AutoCloseable {
        final String url;
        final Master a;
        final Master b;
        final ZkMasterDetector detector;
        final List<ManagedChannel> channels = new ArrayList<>();
        final ConcurrentHashMap<String, ManagedChannel> byLeader = new ConcurrentHashMap<>();
        final List<SimAgent> agents = new ArrayList<>();
        final FrameworkInfo framework;
        final AtomicLong reregisteredAt = new AtomicLong();
        final AtomicInteger reregistered = new AtomicInteger();
        final CountDownLatch allBack;
        final CountDownLatch firstOffer = new CountDownLatch(1);
        final AtomicLong firstOfferAt = new AtomicLong();
        volatile long lossAt;
        volatile StreamObserver<Call> scheduler;

        final List<Blackhole> proxies = new ArrayList<>();
        final AtomicLong electedAt = new AtomicLong();

        Round(ZkEnsemble zk, int count) throws Exception {
            url = "zk://" + zk.connectString() + "/mezzo";
            StringBuilder viaProxies = new StringBuilder();
            for (String hostPort : zk.connectString().split(",")) {
                Blackhole p = new Blackhole(Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1)));
                proxies.add(p);
                viaProxies.append(viaProxies.length() == 0 ? "" : ",").append("127.0.0.1:").append(p.port());
            }
            a = master("a", "zk://" + viaProxies + "/mezzo");
            a.elected().get(30, TimeUnit.SECONDS);
            b = master("b", url);
            b.elected().thenRun(() -> electedAt.set(System.nanoTime()));
            allBack = new CountDownLatch(count);
            detector = ZkMasterDetector.start(io.mezzo.ha.zk.ZkUrl.parse(url), SESSION);
            FrameworkID id = subscribe(a, null);
            framework = FrameworkInfo.newBuilder().setName("bench").setFailoverTimeout(3600).setId(id).build();
            for (int i = 0; i < count; i++) {
                SimAgent agent = new SimAgent(this, i);
                agents.add(agent);
            }
            CountDownLatch registered = new CountDownLatch(count);
            for (SimAgent agent : agents) {
                agent.connect(channelTo(a.info()), registered, 1);
            }
            if (!registered.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("agents did not register");
            }
            // Re-register each with its tasks so the leader knows them (as after any reconnection).
            CountDownLatch seeded = new CountDownLatch(count);
            for (SimAgent agent : agents) {
                agent.connect(channelTo(a.info()), seeded, 1);
            }
            if (!seeded.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("agents did not re-register");
            }
            detector.addListener(this::leaderChanged);
        }

        Master master(String prefix, String zkUrl) throws Exception {
            Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix(prefix)
                    .zk(zkUrl).zkSessionTimeout(SESSION).agentReregisterTimeout(Duration.ofMinutes(10))
                    .outboundQueueCapacity(100_000).build());
            m.start();
            return m;
        }

        ManagedChannel channelTo(MasterInfo info) {
            return channelTo(info, 0);
        }

        ManagedChannel channelTo(MasterInfo info, int i) {
            String key = info.getIp() + ":" + info.getPort() + "#" + (i % CHANNELS);
            return byLeader.computeIfAbsent(key, k -> {
                ManagedChannel c = NettyChannelBuilder.forAddress(info.getIp(), info.getPort()).usePlaintext()
                        .maxInboundMessageSize(64 << 20).build();
                channels.add(c);
                return c;
            });
        }

        void leaderChanged(Optional<MasterInfo> leader) {
            if (leader.isEmpty() || leader.get().getEpoch() < 2 || lossAt == 0) {
                return;
            }
            MasterInfo info = leader.get();
            // Agents and the scheduler follow the detector, as real ones do.
            new Thread(() -> {
                subscribe(b, framework);
                for (SimAgent agent : agents) {
                    agent.connect(channelTo(info, agent.index), allBack, 2);
                }
            }, "bench-failover").start();
        }

        FrameworkID subscribe(Master m, FrameworkInfo info) {
            CountDownLatch subscribed = new CountDownLatch(1);
            FrameworkID[] id = new FrameworkID[1];
            boolean resubscribe = info != null;
            StreamObserver<Call> calls = SchedulerGrpc.newStub(channelTo(m.info())).subscribe(new StreamObserver<>() {
                @Override
                public void onNext(Event e) {
                    if (e.getType() == Event.Type.SUBSCRIBED) {
                        id[0] = e.getSubscribed().getFrameworkId();
                        subscribed.countDown();
                    } else if (e.getType() == Event.Type.OFFERS && resubscribe && firstOfferAt.get() == 0) {
                        firstOfferAt.compareAndSet(0, System.nanoTime());
                        firstOffer.countDown();
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            });
            synchronized (this) {
                calls.onNext(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                        .setFrameworkInfo(info != null ? info : FrameworkInfo.newBuilder().setName("bench")
                                .setFailoverTimeout(3600).build())).build());
            }
            scheduler = calls;
            try {
                subscribed.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return id[0];
        }

        /** Kills (or stops) the leader; returns (a), (b), (c) in milliseconds. */
        long[] failover(boolean crash) throws Exception {
            lossAt = System.nanoTime();
            if (crash) {
                // The leader's host dies: its ZooKeeper traffic stops and its clients' streams break.
                proxies.forEach(Blackhole::cut);
                a.faults().crash();
            } else {
                a.close();
            }
            MasterInfo elected = b.elected().get(60, TimeUnit.SECONDS);
            long electedAt = this.electedAt.get();
            if (elected.getEpoch() < 2) {
                throw new IllegalStateException("unexpected epoch " + elected.getEpoch());
            }
            if (!firstOffer.await(120, TimeUnit.SECONDS) || !allBack.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("failover did not complete: " + allBack.getCount() + " agents missing");
            }
            return new long[] {
                (electedAt - lossAt) / 1_000_000,
                (firstOfferAt.get() - electedAt) / 1_000_000,
                (reregisteredAt.get() - electedAt) / 1_000_000
            };
        }

        @Override
        public void close() throws java.io.IOException {
            agents.forEach(SimAgent::close);
            detector.close();
            a.close();
            for (Blackhole p : proxies) {
                p.close();
            }
            b.close();
            channels.forEach(ManagedChannel::shutdownNow);
        }

    }

    /**
     * A TCP proxy in front of one ZooKeeper server, so that a master's ZooKeeper traffic can be cut
     * off as a crash would: its session then expires on the servers after the session timeout.
     */
    private static final class Blackhole implements AutoCloseable {
        final java.net.ServerSocket server;
        final int target;
        final List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean cut;

        Blackhole(int target) throws java.io.IOException {
            this.target = target;
            server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            Thread accept = new Thread(this::accept, "zk-proxy-" + target);
            accept.setDaemon(true);
            accept.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    java.net.Socket in = server.accept();
                    if (cut) {
                        in.close();
                        continue;
                    }
                    java.net.Socket out = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), target);
                    sockets.add(in);
                    sockets.add(out);
                    pump(in, out);
                    pump(out, in);
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }

        private void pump(java.net.Socket from, java.net.Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try {
                    int n;
                    while ((n = from.getInputStream().read(buf)) >= 0) {
                        if (!cut) {
                            to.getOutputStream().write(buf, 0, n);
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // connection closed
                }
            }, "zk-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        /** Drops every byte from now on, without closing anything: a frozen or dead host. */
        void cut() {
            cut = true;
        }

        @Override
        public void close() throws java.io.IOException {
            cut = true;
            server.close();
            for (java.net.Socket s : sockets) {
                s.close();
            }
        }
    }

    /** One simulated agent: a raw AgentLink stream that registers, reports its tasks and answers pings. */
    private static final class SimAgent {
        final Round round;
        final int index;
        volatile AgentID id;
        volatile StreamObserver<AgentMessage> out;
        /** Built once: the simulator's own cost must not count in the failover time. */
        volatile AgentMessage reregister;

        SimAgent(Round round, int index) {
            this.round = round;
            this.index = index;
        }

        AgentInfo info() {
            AgentInfo.Builder b = AgentInfo.newBuilder().setHostname("sim-" + index)
                    .addAllResources(ResourceText.parse("cpus:16;mem:65536;disk:1048576;ports:[31000-32000]").toProto());
            if (id != null) {
                b.setId(id);
            }
            return b.build();
        }

        void connect(ManagedChannel channel, CountDownLatch done, long epoch) {
            java.util.concurrent.atomic.AtomicReference<StreamObserver<AgentMessage>> holder =
                    new java.util.concurrent.atomic.AtomicReference<>();
            holder.set(AgentLinkGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(MasterMessage m) {
                    switch (m.getType()) {
                        case REGISTERED -> {
                            id = m.getRegistered().getAgentId();
                            if (m.getEpoch() >= epoch) {
                                if (epoch >= 2 && round.reregistered.incrementAndGet() == round.agents.size()) {
                                    round.reregisteredAt.set(System.nanoTime());
                                }
                                done.countDown();
                            }
                        }
                        case PING -> send(holder.get(), AgentMessage.newBuilder().setType(AgentMessage.Type.PONG)
                                .setAgentId(id).setPong(AgentMessage.Pong.newBuilder().setSequence(m.getPing().getSequence()))
                                .build());
                        default -> {
                        }
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            }));
            StreamObserver<AgentMessage> previous = out;
            out = holder.get();
            if (previous != null) {
                try {
                    previous.onCompleted();
                } catch (RuntimeException ignored) {
                    // The old master is gone.
                }
            }
            if (id == null) {
                send(out, AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                        .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(info())).build());
            } else if (reregister != null) {
                send(out, reregister);
            } else {
                AgentMessage.Reregister.Builder rr = AgentMessage.Reregister.newBuilder().setAgentInfo(info())
                        .addFrameworks(round.framework);
                List<Resource> res = ResourceText.parse("cpus:0.1;mem:32").toProto("*");
                for (int t = 0; t < TASKS_PER_AGENT; t++) {
                    TaskID taskId = TaskID.newBuilder().setValue("task-" + index + "-" + t).build();
                    rr.addTasks(Task.newBuilder().setTaskId(taskId).setFrameworkId(round.framework.getId())
                            .setAgentId(id).setName(taskId.getValue()).setState(TaskState.TASK_RUNNING)
                            .addAllResources(res)
                            .setTaskInfo(TaskInfo.newBuilder().setName(taskId.getValue()).setTaskId(taskId).setAgentId(id)
                                    .addAllResources(res).setCommand(CommandInfo.newBuilder().setShell("sleep 1000"))));
                }
                reregister = AgentMessage.newBuilder().setType(AgentMessage.Type.REREGISTER).setAgentId(id)
                        .setReregister(rr).build();
                send(out, reregister);
            }
        }

        private static void send(StreamObserver<AgentMessage> stream, AgentMessage m) {
            synchronized (stream) {
                try {
                    stream.onNext(m);
                } catch (RuntimeException ignored) {
                    // Stream closed: a newer one took over.
                }
            }
        }

        void close() {
            StreamObserver<AgentMessage> o = out;
            if (o != null) {
                try {
                    o.onCompleted();
                } catch (RuntimeException ignored) {
                    // already closed
                }
            }
        }
    }
}
