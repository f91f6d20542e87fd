package io.mezzo.benchmarks;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.AgentLinkGrpc;
import io.mezzo.proto.v1.AgentMessage;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Event;
import io.mezzo.proto.v1.Filters;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.SchedulerGrpc;
import io.mezzo.proto.v1.StatusUpdate;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.proto.v1.Value;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/**
 * The end-to-end load tool (a command, not a test): a real master (in-process, or an external one
 * by address), N simulated agents each with a real gRPC stream to it, and M synthetic frameworks
 * that launch as fast as offers allow; tasks finish after a configurable duration. Prints launches
 * per second sustained, ACCEPT to TASK_RUNNING and agent update to acknowledgement percentiles,
 * master CPU per launch, heap after GC per agent and per live task, and the master loop's queue
 * depth and latency. See docs/benchmarks.md for the command lines and results.
 *
 * <pre>
 *   java -cp benchmarks/target/mezzo-benchmarks.jar io.mezzo.benchmarks.LoadTool \
 *        --agents 1000 --frameworks 4 --task-seconds 0 --seconds 60 [--warmup 10] [--rate 5000]
 *        [--master host:port] [--log-level WARN]
 * </pre>
 *
 * <p>Threads: gRPC callbacks (each agent and framework synchronizes on itself), one timer thread
 * for task ends and sampling. The load generator shares the JVM and the cores with an in-process
 * master: its own CPU is reported next to the master's.
 */
public final class LoadTool {

    private static final double TASK_CPUS = 0.1;
    private static final long TASK_MEM_MB = 32;

    private final int agentCount;
    private final int frameworkCount;
    private final long taskMillis;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "load-timer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong launched = new AtomicLong();
    private final AtomicLong running = new AtomicLong();
    private final AtomicLong finished = new AtomicLong();
    private final AtomicLong uuidCounter = new AtomicLong();
    private final Recorder acceptToRunning = new Recorder();
    private final Recorder updateToAck = new Recorder();
    private final List<SimAgent> agents = new ArrayList<>();
    private final List<SimFramework> frameworks = new ArrayList<>();
    private volatile boolean measuring;
    /** Launches still allowed this 10 ms tick when a rate is set (--rate); unlimited otherwise. */
    private final AtomicLong budget = new AtomicLong(Long.MAX_VALUE / 2);
    private long rate;
    private int maxLaunchesInFlight = MasterConfig.DEFAULT_MAX_LAUNCHES_IN_FLIGHT;
    private volatile boolean stopping;

    private LoadTool(int agents, int frameworks, long taskMillis) {
        this.agentCount = agents;
        this.frameworkCount = frameworks;
        this.taskMillis = taskMillis;
    }

    public static void main(String[] args) throws Exception {
        int agents = 100;
        int frameworks = 2;
        double taskSeconds = 0;
        int seconds = 30;
        int warmup = 10;
        String external = null;
        String logLevel = "WARN";
        long rate = 0;
        int maxLaunchesInFlight = MasterConfig.DEFAULT_MAX_LAUNCHES_IN_FLIGHT;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--agents" -> agents = Integer.parseInt(args[++i]);
                case "--frameworks" -> frameworks = Integer.parseInt(args[++i]);
                case "--task-seconds" -> taskSeconds = Double.parseDouble(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--master" -> external = args[++i];
                case "--log-level" -> logLevel = args[++i];
                case "--rate" -> rate = Long.parseLong(args[++i]);
                case "--max-launches-in-flight" -> maxLaunchesInFlight = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: LoadTool [--agents N] [--frameworks M] [--task-seconds S] [--seconds T]"
                            + " [--warmup W] [--rate LAUNCHES_PER_S] [--master host:port] [--log-level LEVEL]"
                            + " [--max-launches-in-flight N (in-process master; 0: no admission control)]");
                    System.exit(2);
                }
            }
        }
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.toLevel(logLevel));
        LoadTool tool = new LoadTool(agents, frameworks, Math.round(taskSeconds * 1000));
        tool.rate = rate;
        tool.maxLaunchesInFlight = maxLaunchesInFlight;
        tool.run(external, warmup, seconds);
    }

    private void run(String external, int warmup, int seconds) throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long heapBase = heapAfterGc(memory);
        if (rate > 0) {
            // A token bucket refilled every 10 ms: frameworks launch at most --rate tasks a second.
            budget.set(0);
            timer.scheduleAtFixedRate(() -> budget.set(Math.max(1, rate / 100)), 0, 10, TimeUnit.MILLISECONDS);
        }
        Master master = null;
        String target = external;
        if (external == null) {
            master = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0)
                    .maxLaunchesInFlight(maxLaunchesInFlight).build());
            System.out.printf("in-process master, --max_launches_in_flight %d%n", maxLaunchesInFlight);
            master.start();
            target = "127.0.0.1:" + master.port();
        }
        long heapMaster = heapAfterGc(memory);
        int channelCount = Math.max(1, Math.min(16, agentCount / 500 + 1));
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < channelCount + 1; i++) {
            channels.add(NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(64 << 20).build());
        }
        long start = System.nanoTime();
        for (int i = 0; i < agentCount; i++) {
            SimAgent a = new SimAgent(i);
            agents.add(a);
            a.connect(channels.get(i % channelCount));
        }
        waitUntil(() -> agents.stream().allMatch(a -> a.id != null), 120);
        System.out.printf(Locale.ROOT, "%d agents registered in %.1f s over %d channels%n", agentCount,
                (System.nanoTime() - start) / 1e9, channelCount);
        long heapAgents = heapAfterGc(memory);
        for (int i = 0; i < frameworkCount; i++) {
            SimFramework f = new SimFramework(i);
            frameworks.add(f);
            f.connect(channels.get(channelCount));
        }
        Thread.sleep(warmup * 1000L);
        acceptToRunning.clear();
        updateToAck.clear();
        long launchedBefore = running.get();
        Map<Long, Long> cpuBefore = cpuByThread(threads, master != null);
        long processCpuBefore = processCpu();
        measuring = true;
        long measureStart = System.nanoTime();
        List<Long> loopLatency = new ArrayList<>();
        List<Integer> loopDepth = new ArrayList<>();
        long end = measureStart + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            if (master != null) {
                long t0 = System.nanoTime();
                loopDepth.add(master.loopQueueSize());
                master.barrier().get(30, TimeUnit.SECONDS);
                loopLatency.add(System.nanoTime() - t0);
            }
            Thread.sleep(100);
        }
        measuring = false;
        double elapsed = (System.nanoTime() - measureStart) / 1e9;
        long launches = running.get() - launchedBefore;
        Map<Long, Long> cpuAfter = cpuByThread(threads, master != null);
        long loopCpu = 0;
        for (Map.Entry<Long, Long> e : cpuAfter.entrySet()) {
            loopCpu += e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L);
        }
        long processCpu = processCpu() - processCpuBefore;
        long live = running.get() - finished.get();
        long heapTasks = heapAfterGc(memory);
        System.out.printf(Locale.ROOT, "agents %d, frameworks %d, task duration %d ms, rate limit %s, measured %.1f s after"
                + " %d s warm-up%n", agentCount, frameworkCount, taskMillis, rate == 0 ? "none" : rate + "/s", elapsed,
                warmup);
        System.out.printf(Locale.ROOT, "launches (TASK_RUNNING seen by frameworks): %d, %.0f/s sustained%n", launches,
                launches / elapsed);
        System.out.println("ACCEPT -> TASK_RUNNING at the framework: " + acceptToRunning.summary());
        System.out.println("agent update -> acknowledgement at the agent: " + updateToAck.summary());
        if (master != null) {
            System.out.printf(Locale.ROOT, "master loop thread CPU per launch: %.1f us; whole process (master + load"
                    + " generator) CPU per launch: %.1f us%n", launches == 0 ? 0 : loopCpu / 1e3 / launches,
                    launches == 0 ? 0 : processCpu / 1e3 / launches);
            long[] lat = loopLatency.stream().mapToLong(Long::longValue).sorted().toArray();
            int[] depth = loopDepth.stream().mapToInt(Integer::intValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "master loop: queue depth p50 %d p99 %d max %d; barrier latency p50 %.2f ms"
                    + " p99 %.2f ms max %.2f ms%n", pct(depth, 50), pct(depth, 99), depth.length == 0 ? 0
                    : depth[depth.length - 1], pct(lat, 50) / 1e6, pct(lat, 99) / 1e6,
                    lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6);
            System.out.printf(Locale.ROOT, "heap after GC: master alone %.1f MB; + %d agents %.1f MB (%.1f KB per agent,"
                    + " load generator included); + %d live tasks %.1f MB (%.2f KB per live task)%n",
                    (heapMaster - heapBase) / 1e6, agentCount, (heapAgents - heapMaster) / 1e6,
                    (heapAgents - heapMaster) / 1e3 / agentCount, live, (heapTasks - heapAgents) / 1e6,
                    live == 0 ? 0 : (heapTasks - heapAgents) / 1e3 / live);
        }
        System.out.printf(Locale.ROOT, "load: %s%n", Arrays.toString(loadAverage()));
        stopping = true;
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        if (master != null) {
            master.close();
        }
        timer.shutdownNow();
        System.exit(0);
    }

    // ------------------------------------------------------------------ simulated agent

    /** One agent: a real stream; tasks "run" for the configured duration. Callbacks synchronize on it. */
    private final class SimAgent implements StreamObserver<MasterMessage> {
        final int index;
        volatile AgentID id;
        StreamObserver<AgentMessage> out;
        /** Per task: updates waiting behind the one in flight (one in flight per task, as the agent does). */
        final Map<String, ArrayDeque<StatusUpdate>> streams = new HashMap<>();
        final Map<String, Long> sentAt = new HashMap<>();

        SimAgent(int index) {
            this.index = index;
        }

        void connect(ManagedChannel channel) {
            out = AgentLinkGrpc.newStub(channel).connect(this);
            synchronized (this) {
                out.onNext(AgentMessage.newBuilder().setType(AgentMessage.Type.REGISTER)
                        .setRegister(AgentMessage.Register.newBuilder().setAgentInfo(AgentInfo.newBuilder()
                                .setHostname("load-agent-" + index).setPort(1)
                                .addResources(scalar("cpus", 8000)).addResources(scalar("mem", 32768_000))))
                        .build());
            }
        }

        @Override
        public synchronized void onNext(MasterMessage m) {
            switch (m.getType()) {
                case REGISTERED -> id = m.getRegistered().getAgentId();
                case PING -> out.onNext(AgentMessage.newBuilder().setType(AgentMessage.Type.PONG).setAgentId(id)
                        .setPong(AgentMessage.Pong.newBuilder().setSequence(m.getPing().getSequence())).build());
                case RUN_TASK -> {
                    TaskInfo task = m.getRunTask().getTask();
                    FrameworkID fw = m.getRunTask().getFramework().getId();
                    add(fw, task.getTaskId(), TaskState.TASK_RUNNING);
                    Runnable end = () -> {
                        synchronized (SimAgent.this) {
                            add(fw, task.getTaskId(), TaskState.TASK_FINISHED);
                        }
                    };
                    if (taskMillis == 0) {
                        end.run();
                    } else {
                        timer.schedule(end, taskMillis, TimeUnit.MILLISECONDS);
                    }
                }
                case KILL_TASK -> add(m.getKillTask().getFrameworkId(), m.getKillTask().getTaskId(),
                        TaskState.TASK_KILLED);
                case STATUS_UPDATE_ACK -> {
                    String task = m.getStatusUpdateAck().getTaskId().getValue();
                    ArrayDeque<StatusUpdate> q = streams.get(task);
                    if (q == null || q.isEmpty() || !q.peek().getStatus().getUuid()
                            .equals(m.getStatusUpdateAck().getUuid())) {
                        return;
                    }
                    q.poll();
                    Long at = sentAt.remove(task);
                    if (at != null && measuring) {
                        updateToAck.add(System.nanoTime() - at);
                    }
                    if (q.isEmpty()) {
                        streams.remove(task);
                    } else {
                        send(task, q.peek());
                    }
                }
                default -> { }
            }
        }

        private void add(FrameworkID fw, TaskID task, TaskState state) {
            ByteBuffer uuid = ByteBuffer.allocate(16).putLong(index).putLong(uuidCounter.incrementAndGet());
            StatusUpdate u = StatusUpdate.newBuilder().setFrameworkId(fw).setStatus(TaskStatus.newBuilder()
                    .setTaskId(task).setState(state).setAgentId(id).setTimestamp(System.currentTimeMillis() / 1000.0)
                    .setUuid(com.google.protobuf.ByteString.copyFrom(uuid.array()))).build();
            ArrayDeque<StatusUpdate> q = streams.computeIfAbsent(task.getValue(), k -> new ArrayDeque<>());
            q.add(u);
            if (q.size() == 1) {
                send(task.getValue(), u);
            }
        }

        private void send(String task, StatusUpdate u) {
            sentAt.put(task, System.nanoTime());
            out.onNext(AgentMessage.newBuilder().setType(AgentMessage.Type.STATUS_UPDATE).setAgentId(id)
                    .setStatusUpdate(u).build());
        }

        @Override
        public void onError(Throwable t) {
            if (!stopping) {
                System.err.println("agent " + index + " stream failed: " + t);
            }
        }

        @Override
        public void onCompleted() {}
    }

    // ------------------------------------------------------------------ synthetic framework

    /** One framework: launches everything an offer holds, acknowledges every update. */
    private final class SimFramework implements StreamObserver<Event> {
        final int index;
        FrameworkID id;
        StreamObserver<Call> out;
        final Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
        long counter;

        SimFramework(int index) {
            this.index = index;
        }

        void connect(ManagedChannel channel) {
            out = SchedulerGrpc.newStub(channel).subscribe(this);
            synchronized (this) {
                out.onNext(Call.newBuilder().setType(Call.Type.SUBSCRIBE).setSubscribe(Call.Subscribe.newBuilder()
                        .setFrameworkInfo(FrameworkInfo.newBuilder().setUser("load").setName("load-" + index)
                                .addRoles("load-" + index))).build());
            }
        }

        @Override
        public synchronized void onNext(Event e) {
            switch (e.getType()) {
                case SUBSCRIBED -> id = e.getSubscribed().getFrameworkId();
                case OFFERS -> e.getOffers().getOffersList().forEach(this::launch);
                case UPDATE -> {
                    TaskStatus s = e.getUpdate().getStatus();
                    if (s.getState() == TaskState.TASK_RUNNING) {
                        running.incrementAndGet();
                        Long at = acceptedAt.remove(s.getTaskId().getValue());
                        if (at != null && measuring) {
                            acceptToRunning.add(System.nanoTime() - at);
                        }
                    } else if (s.getState() == TaskState.TASK_FINISHED || s.getState() == TaskState.TASK_KILLED) {
                        finished.incrementAndGet();
                    }
                    if (!s.getUuid().isEmpty()) {
                        out.onNext(Call.newBuilder().setType(Call.Type.ACKNOWLEDGE).setFrameworkId(id)
                                .setAcknowledge(Call.Acknowledge.newBuilder().setAgentId(s.getAgentId())
                                        .setTaskId(s.getTaskId()).setUuid(s.getUuid())).build());
                    }
                }
                default -> { }
            }
        }

        private void launch(Offer offer) {
            double cpus = 0;
            double mem = 0;
            for (Resource r : offer.getResourcesList()) {
                if (r.getName().equals("cpus")) {
                    cpus += r.getScalar().getMilli() / 1000.0;
                } else if (r.getName().equals("mem")) {
                    mem += r.getScalar().getMilli() / 1000.0;
                }
            }
            int fits = (int) Math.min(Math.floor(cpus / TASK_CPUS + 1e-9), Math.floor(mem / TASK_MEM_MB + 1e-9));
            long allowed = budget.getAndAccumulate(fits, (left, want) -> Math.max(0, left - want));
            int n = (int) Math.min(fits, allowed);
            Offer.Operation.Launch.Builder launch = Offer.Operation.Launch.newBuilder();
            long now = System.nanoTime();
            for (int i = 0; i < n; i++) {
                String task = "l" + index + "-" + (++counter);
                launch.addTaskInfos(TaskInfo.newBuilder().setName(task).setTaskId(TaskID.newBuilder().setValue(task))
                        .setAgentId(offer.getAgentId())
                        .addResources(scalar("cpus", Math.round(TASK_CPUS * 1000)))
                        .addResources(scalar("mem", TASK_MEM_MB * 1000))
                        .setCommand(CommandInfo.newBuilder().setShell("true")));
                acceptedAt.put(task, now);
            }
            launched.addAndGet(n);
            // Under a rate limit, what is not used now is declined for a second, so that offers do not spin.
            double refuse = n < fits ? 1 : 0;
            out.onNext(Call.newBuilder().setType(Call.Type.ACCEPT).setFrameworkId(id).setAccept(Call.Accept.newBuilder()
                    .addOfferIds(offer.getId())
                    .addOperations(Offer.Operation.newBuilder().setType(Offer.Operation.Type.LAUNCH).setLaunch(launch))
                    .setFilters(Filters.newBuilder().setRefuseSeconds(refuse))).build());
        }

        @Override
        public void onError(Throwable t) {
            if (!stopping) {
                System.err.println("framework " + index + " stream failed: " + t);
            }
        }

        @Override
        public void onCompleted() {}
    }

    // ------------------------------------------------------------------ measurement

    /** Latencies in nanoseconds; thread-safe. */
    private static final class Recorder {
        private long[] values = new long[1 << 16];
        private int size;

        synchronized void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        synchronized void clear() {
            size = 0;
        }

        synchronized String summary() {
            long[] v = Arrays.copyOf(values, size);
            Arrays.sort(v);
            return String.format(Locale.ROOT, "n %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms", v.length, pct(v, 50) / 1e6,
                    pct(v, 99) / 1e6, v.length == 0 ? 0 : v[v.length - 1] / 1e6);
        }
    }

    private static long pct(long[] sorted, int p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) ((long) sorted.length * p / 100))];
    }

    private static int pct(int[] sorted, int p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) ((long) sorted.length * p / 100))];
    }

    private static Resource scalar(String name, long milli) {
        return Resource.newBuilder().setName(name).setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(milli)).build();
    }

    private static long heapAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** CPU time of the master's loop thread (the single writer), by thread id. */
    private static Map<Long, Long> cpuByThread(ThreadMXBean threads, boolean inProcess) {
        Map<Long, Long> cpu = new HashMap<>();
        if (!inProcess) {
            return cpu;
        }
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().equals("master-loop")) {
                cpu.put(info.getThreadId(), threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return cpu;
    }

    private static long processCpu() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return 0;
    }

    private static double[] loadAverage() {
        try {
            String[] f = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg"))).split(" ");
            return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (java.io.IOException | RuntimeException e) {
            return new double[0];
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier done, int seconds) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("timed out after " + seconds + " s");
            }
            Thread.sleep(50);
        }
    }
}
