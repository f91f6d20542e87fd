package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.checkpoint.CheckpointFile;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.dist.run.RunFramework;
import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.ContainerCheckpoint;
import io.mezzo.proto.v1.ExecutorID;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.OfferID;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.proto.v1.TaskStatus;
import io.mezzo.scheduler.MezzoSchedulerClient;
import io.mezzo.scheduler.Scheduler;
import io.mezzo.scheduler.SchedulerDriver;
import io.mezzo.scheduler.SchedulerError;
import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real agent processes ({@code bin/mezzo agent}) restarted under running tasks, against a master in this
 * JVM: kill -9 and SIGTERM, tasks that end while the agent is down, a pid reused meanwhile, frameworks
 * that do not checkpoint, and {@code mezzo run} surviving it all with the task's real exit code.
 * Runs after {@code package}, on the unpacked distribution in target/mezzo.
 */
class AgentRestartIT {


    @TempDir
    Path work;

    private final List<Process> started = new ArrayList<>();
    private final String cgroupsRoot = "mezzo-it/" + UUID.randomUUID().toString().substring(0, 12);
    private Cluster cluster;
    private Path workDir;
    private MezzoSchedulerClient client;
    private Process unrelated;
    private int agentRuns;

    @BeforeEach
    void start() throws Exception {
        cluster = new Cluster(work.resolve("master"));
        workDir = work.resolve("agent");
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (client != null) {
            client.close();
        }
        for (Process p : started) {
            List<ProcessHandle> tree = p.descendants().toList();
            p.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (unrelated != null) {
            unrelated.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        // Whatever task the agents left: they all carry the work directory in their environment.
        killTasksUnder(workDir);
        removeCgroups();
        cluster.close();
    }

    @Test
    void aTaskKeepsRunningThroughKill9AndItsEndIsReportedOnce() throws Exception {
        Process agent = startAgent();
        Recorder fw = subscribe(true, false);
        Offer offer = fw.offer();
        fw.driver.launch(offer.getId(), List.of(shellTask("t1", offer, "echo $$ > pid; while [ ! -f go ]; do sleep 0.1;"
                + " done; echo finished")));
        fw.await("t1", TaskState.TASK_RUNNING);
        Path sandbox = sandboxOf("t1");
        await().atMost(Timeouts.FAILOVER).until(() -> Files.exists(sandbox.resolve("pid")));
        long taskPid = Long.parseLong(Files.readString(sandbox.resolve("pid")).trim());

        agent.destroyForcibly();
        assertThat(agent.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(running(taskPid)).as("the task survives kill -9 of its agent").isTrue();

        Process again = startAgent();
        awaitLog(again, "Re-registered with master");
        Files.writeString(sandbox.resolve("go"), "");
        TaskStatus finished = fw.await("t1", TaskState.TASK_FINISHED);
        assertThat(finished.getExitCode()).isZero();
        assertThat(Files.readString(sandbox.resolve("stdout"))).isEqualTo("finished\n");
        // Exactly once: nothing more comes for the task.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                .until(() -> fw.count("t1", TaskState.TASK_FINISHED) == 1);
    }

    @Test
    void mezzoRunExitsWithTheExitCodeOfATaskThatEndedWhileItsAgentWasStopped() throws Exception {
        Process agent = startAgent();
        awaitLog(agent, "Registered with master");
        Path runLog = work.resolve("run.log");
        Process run = mezzo(runLog, "run", "--master", cluster.masterAddress(), "--shell", "--",
                "while [ ! -f go ]; do sleep 0.1; done; exit 3");
        await().atMost(Timeouts.FAILOVER).until(() -> read(runLog).contains("TASK_RUNNING"));
        Path sandbox = sandboxOf(taskIdIn(read(runLog)));

        // SIGTERM, as for an upgrade: the agent leaves the checkpointed task running.
        agent.destroy();
        assertThat(agent.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(logOf(agent)).contains("Leaving 1 tasks of checkpointing frameworks running");
        Files.writeString(sandbox.resolve("go"), "");
        await().atMost(Timeouts.FAILOVER).until(() -> exitStatuses().contains("3"));

        startAgent();
        assertThat(run.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).as("mezzo run ends").isTrue();
        assertThat(run.exitValue()).as(read(runLog)).isEqualTo(3);
        assertThat(read(runLog)).contains("TASK_FAILED (exit 3)");
    }

    @Test
    void aTaskOfAFrameworkWithoutCheckpointingDiesWithItsAgentAndTheFrameworkIsTold() throws Exception {
        Process agent = startAgent();
        awaitLog(agent, "Registered with master");
        Path runLog = work.resolve("run.log");
        Process run = mezzo(runLog, "run", "--master", cluster.masterAddress(), "--no-checkpoint", "--", "sleep",
                "600");
        await().atMost(Timeouts.FAILOVER).until(() -> read(runLog).contains("TASK_RUNNING"));
        long launcher = containerRecords().get(0).getPid();

        agent.destroyForcibly();
        assertThat(agent.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        // Its launcher notices the agent is gone and stops the task.
        await().atMost(Timeouts.FAILOVER).until(() -> !running(launcher));

        startAgent();
        assertThat(run.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        // mezzo run is partition-aware: the task it saw running is TASK_GONE, its outcome unknown.
        assertThat(run.exitValue()).as(read(runLog)).isEqualTo(RunFramework.EXIT_LOST);
        assertThat(read(runLog)).contains("TASK_GONE").contains("re-registered without task")
                .contains("its outcome is unknown");
    }

    @Test
    void aLauncherPidReusedWhileTheAgentWasDownIsNotAdopted() throws Exception {
        Process agent = startAgent();
        Recorder fw = subscribe(true, true);
        Offer offer = fw.offer();
        fw.driver.launch(offer.getId(), List.of(shellTask("t1", offer, "sleep 600")));
        fw.await("t1", TaskState.TASK_RUNNING);
        ContainerCheckpoint record = containerRecords().get(0);
        long launcher = record.getPid();
        agent.destroyForcibly();
        assertThat(agent.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();

        // The launcher's pid now names another process (its start time differs from the checkpoint's).
        unrelated = new ProcessBuilder("sleep", "600").start();
        Path file = workDir.resolve("meta/containers").resolve(record.getContainerId().getValue())
                .resolve("container.info");
        CheckpointFile.write(file, record.toBuilder().setPid((int) unrelated.pid()).build());

        startAgent();
        TaskStatus gone = fw.await("t1", TaskState.TASK_GONE);
        assertThat(gone.getReason()).isEqualTo(StatusReason.REASON_AGENT_RESTARTED);
        assertThat(running(unrelated.pid())).as("the unrelated process is left alone").isTrue();
        await().atMost(Timeouts.FAILOVER).until(() -> !running(launcher));
    }

    @Test
    void startupErrorsAreClearAndNameTheirCause() throws Exception {
        Path corrupt = work.resolve("corrupt");
        Files.createDirectories(corrupt.resolve("meta"));
        Files.writeString(corrupt.resolve("meta/agent.info"), "garbage");
        Process p = mezzo(work.resolve("corrupt.log"), "agent", "--master", cluster.masterAddress(), "--port", "0",
                "--work_dir", corrupt.toString());
        assertThat(p.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(read(work.resolve("corrupt.log")))
                .contains("mezzo agent: corrupt checkpoint file " + corrupt.resolve("meta/agent.info"))
                .contains("--recover=cleanup");

        Path file = Files.writeString(work.resolve("a-file"), "x");
        p = mezzo(work.resolve("unwritable.log"), "agent", "--master", cluster.masterAddress(), "--port", "0",
                "--work_dir", file.resolve("sub").toString());
        assertThat(p.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(read(work.resolve("unwritable.log"))).contains("mezzo agent: cannot use --work_dir "
                + file.resolve("sub") + ": ").contains("Not a directory");

        p = mezzo(work.resolve("flags.log"), "agent", "--master", cluster.masterAddress(), "--work_dir",
                work.resolve("w").toString(), "--isolation", "lxc");
        assertThat(p.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(read(work.resolve("flags.log"))).contains("--isolation").contains("'lxc' is not one of");
    }

    // ---------------------------------------------------------------- agents and processes

    /**
     * An agent marked gone exits with 78 (so the shipped systemd unit does not restart it), exits
     * with 78 again at its next start, and runs again under a new id after {@code --recover=cleanup}.
     */
    @Test
    void anAgentMarkedGoneExitsWith78UntilStartedWithRecoverCleanup() throws Exception {
        Process agent = startAgent();
        awaitLog(agent, "Registered with master");
        io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", cluster.master.port()).usePlaintext().build();
        try {
            io.mezzo.proto.v1.OperatorGrpc.OperatorBlockingStub operator = io.mezzo.proto.v1.OperatorGrpc
                    .newBlockingStub(channel).withDeadlineAfter(Timeouts.PROCESS.toMillis(), TimeUnit.MILLISECONDS);
            cluster.settle();
            List<io.mezzo.proto.v1.AgentView> agents = operator.getAgents(
                    io.mezzo.proto.v1.GetAgentsRequest.getDefaultInstance()).getAgentsList();
            assertThat(agents).hasSize(1);
            AgentID id = agents.get(0).getAgentInfo().getId();
            operator.markAgentGone(io.mezzo.proto.v1.MarkAgentGoneRequest.newBuilder().setAgentId(id).build());
            assertThat(agent.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(agent.exitValue()).isEqualTo(78);
            assertThat(logOf(agent)).contains("--recover=cleanup");

            Process again = startAgent();
            assertThat(again.waitFor(Timeouts.FAILOVER.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(again.exitValue()).as("a gone agent is refused at every start").isEqualTo(78);

            Path log = work.resolve("agent-cleanup.log");
            Process cleaned = mezzo(log, "agent", "--master", cluster.masterAddress(), "--port", "0",
                    "--work_dir", workDir.toString(), "--resources", "cpus:2;mem:1024;disk:1024;ports:[31000-31009]",
                    "--cgroups_root", cgroupsRoot, "--allow_root_tasks", "--recover", "cleanup");
            logs.put(cleaned, log);
            awaitLog(cleaned, "Registered with master");
            cluster.settle();
            assertThat(operator.getAgents(io.mezzo.proto.v1.GetAgentsRequest.getDefaultInstance()).getAgentsList())
                    .anySatisfy(a -> {
                        assertThat(a.getAgentInfo().getId()).isNotEqualTo(id);
                        assertThat(a.getState()).isEqualTo(io.mezzo.proto.v1.AgentView.State.REGISTERED);
                    });
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private Process startAgent() throws IOException {
        Path log = work.resolve("agent-" + (++agentRuns) + ".log");
        Process p = mezzo(log, "agent", "--master", cluster.masterAddress(), "--port", "0",
                "--work_dir", workDir.toString(), "--resources", "cpus:2;mem:1024;disk:1024;ports:[31000-31009]",
                "--cgroups_root", cgroupsRoot, "--logging_level", "DEBUG", "--allow_root_tasks");
        logs.put(p, log);
        return p;
    }

    private final java.util.Map<Process, Path> logs = new java.util.concurrent.ConcurrentHashMap<>();

    private String logOf(Process p) throws IOException {
        return read(logs.get(p));
    }

    private void awaitLog(Process p, String text) {
        await("agent log: " + text).atMost(Timeouts.FAILOVER).until(() -> logOf(p).contains(text));
    }

    private Process mezzo(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        Path home = Path.of(System.getProperty("mezzo.home", "target/mezzo"));
        command.add(home.resolve("bin/mezzo").toString());
        command.addAll(List.of(args));
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().put("MEZZO_JAVA_OPTS", "-Xmx192m -XX:TieredStopAtLevel=1");
        Process p = b.start();
        started.add(p);
        return p;
    }

    private Recorder subscribe(boolean checkpoint, boolean partitionAware) {
        FrameworkInfo.Builder info = Cluster.frameworkInfo("restart-it").setCheckpoint(checkpoint)
                .setUser(System.getProperty("user.name"));
        if (partitionAware) {
            info.addCapabilities(FrameworkInfo.Capability.newBuilder()
                    .setType(FrameworkInfo.Capability.Type.PARTITION_AWARE));
        }
        Recorder fw = new Recorder();
        client = MezzoSchedulerClient.builder(info.build(), fw).master(cluster.masterAddress())
                .declineUnusedOffers(false).build();
        fw.driver = client;
        client.start();
        return fw;
    }


    private Path sandboxOf(String taskId) throws IOException {
        try (Stream<Path> files = Files.walk(workDir.resolve("agents"))) {
            return files.filter(p -> p.getFileName().toString().equals("stdout"))
                    .filter(p -> p.toString().contains("/tasks/" + taskId + "/"))
                    .map(Path::getParent)
                    .findFirst()
                    .orElseThrow();
        }
    }

    private List<ContainerCheckpoint> containerRecords() throws IOException {
        List<ContainerCheckpoint> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(workDir.resolve("meta/containers"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("container.info")).toList()) {
                out.add(CheckpointFile.read(f, ContainerCheckpoint.parser()));
            }
        }
        return out;
    }

    private List<String> exitStatuses() throws IOException {
        try (Stream<Path> files = Files.walk(workDir.resolve("meta/containers"))) {
            List<String> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.getFileName().toString().equals("exit_status")).toList()) {
                out.add(Files.readString(f).trim());
            }
            return out;
        }
    }

    private static String taskIdIn(String runOutput) {
        Matcher m = Pattern.compile("task (run-[0-9a-f]+)").matcher(runOutput);
        assertThat(m.find()).as(runOutput).isTrue();
        return m.group(1);
    }

    private static String read(Path log) throws IOException {
        return log != null && Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** Running and not a zombie (this host's init may never reap orphans). */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.substring(stat.lastIndexOf(')') + 2).charAt(0);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills every process whose environment names a sandbox under {@code dir}. */
    private static void killTasksUnder(Path dir) {
        byte[] marker = ("MEZZO_SANDBOX=" + dir).getBytes(StandardCharsets.UTF_8);
        ProcessHandle.allProcesses().forEach(h -> {
            try {
                byte[] env = Files.readAllBytes(Path.of("/proc/" + h.pid() + "/environ"));
                if (indexOf(env, marker) >= 0) {
                    h.destroyForcibly();
                }
            } catch (IOException | RuntimeException e) {
                // Gone, or not ours to read.
            }
        });
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private void removeCgroups() {
        for (String controller : new String[] {"cpu", "cpuacct", "memory", "freezer", "pids", "unified"}) {
            Path root = Path.of("/sys/fs/cgroup", controller, cgroupsRoot);
            if (!Files.isDirectory(root)) {
                continue;
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (Stream<Path> dirs = Files.walk(root)) {
                    for (Path d : dirs.sorted(Comparator.reverseOrder()).filter(Files::isDirectory).toList()) {
                        Files.deleteIfExists(d);
                    }
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            try {
                Files.deleteIfExists(root.getParent());
            } catch (IOException e) {
                // Another run still has a root there.
            }
        }
    }

    /** A scheduler that records offers and updates (and acknowledges them). */
    static final class Recorder implements Scheduler {
        final List<Offer> offers = new CopyOnWriteArrayList<>();
        final List<TaskStatus> updates = new CopyOnWriteArrayList<>();
        volatile MezzoSchedulerClient driver;

        Offer offer() {
            org.awaitility.Awaitility.await("an offer").atMost(Timeouts.FAILOVER).until(() -> !offers.isEmpty());
            return offers.remove(0);
        }

        TaskStatus await(String task, TaskState state) {
            org.awaitility.Awaitility.await(task + " " + state).atMost(Timeouts.FAILOVER).until(() -> count(task, state) > 0);
            return updates.stream().filter(s -> s.getTaskId().getValue().equals(task) && s.getState() == state)
                    .findFirst().orElseThrow();
        }

        long count(String task, TaskState state) {
            return updates.stream().filter(s -> s.getTaskId().getValue().equals(task) && s.getState() == state)
                    .count();
        }

        @Override
        public void subscribed(SchedulerDriver d, FrameworkID id, MasterInfo master) {}

        @Override
        public void offers(SchedulerDriver d, List<Offer> list) {
            offers.addAll(list);
        }

        @Override
        public void rescinded(SchedulerDriver d, OfferID id) {
            offers.removeIf(o -> o.getId().equals(id));
        }

        @Override
        public void update(SchedulerDriver d, TaskStatus status) {
            updates.add(status);
        }

        @Override
        public void message(SchedulerDriver d, AgentID agent, ExecutorID executor, byte[] data) {}

        @Override
        public void error(SchedulerDriver d, SchedulerError error) {}

        @Override
        public void disconnected(SchedulerDriver d) {}
    }
}
