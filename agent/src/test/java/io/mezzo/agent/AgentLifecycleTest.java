package io.mezzo.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.ha.MasterDetector;
import io.mezzo.proto.v1.MasterInfo;
import io.mezzo.testkit.ManualClock;
import io.mezzo.testkit.RecordingFaultHandler;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting and stopping the agent object, without a master. */
class AgentLifecycleTest {

    @TempDir
    Path workDir;

    private final ManualClock clock = new ManualClock();
    private final RecordingFaultHandler faults = new RecordingFaultHandler();

    @Test
    void startsWithoutAMasterDetectsResourcesAndClosesTheDetector() throws Exception {
        TrackingDetector detector = new TrackingDetector();
        Path dir = workDir.resolve("new/work");
        try (Agent agent = new Agent(config(detector, dir).build())) {
            assertThat(agent.boundPort()).isEqualTo(-1);
            agent.start();
            assertThat(agent.boundPort()).isPositive();
            assertThat(dir).isDirectory();
            assertThat(agent.resources().scalar("cpus")).isEqualTo(Runtime.getRuntime().availableProcessors() * 1000L);
            assertThat(agent.resources().scalarNames()).contains("cpus", "mem", "disk");
            assertThat(agent.state().get(5, TimeUnit.SECONDS).getRegistered()).isFalse();
            assertThat(agent.agentId()).isEmpty();
            assertThatThrownBy(agent::start).isInstanceOf(IllegalStateException.class);
        }
        assertThat(detector.closed).isTrue();
        faults.assertNoFaults();
    }

    @Test
    void failsToStartOnAPortInUse() throws Exception {
        try (Agent first = new Agent(config(new TrackingDetector(), workDir.resolve("first")).build()).start()) {
            TrackingDetector detector = new TrackingDetector();
            Agent second = new Agent(config(detector, workDir.resolve("second")).port(first.boundPort()).build());
            assertThatThrownBy(second::start)
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageStartingWith("cannot listen on 127.0.0.1:" + first.boundPort());
            assertThat(detector.closed).isTrue();
            assertThat(second.registered()).isCompletedExceptionally();
            second.close();
        }
    }

    @Test
    void refusesAWorkDirAnotherAgentUses() throws Exception {
        try (Agent first = new Agent(config(new TrackingDetector(), workDir).build()).start()) {
            Agent second = new Agent(config(new TrackingDetector(), workDir).build());
            assertThatThrownBy(second::start)
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("another agent is using it")
                    .hasMessageContaining(workDir.resolve("meta/agent.lock").toString());
            second.close();
            assertThat(first.boundPort()).isPositive();
        }
    }

    @Test
    void failsToStartOnACorruptCheckpointNamingTheFile() throws Exception {
        Path agentInfo = workDir.resolve("meta/agent.info");
        Files.createDirectories(agentInfo.getParent());
        Files.writeString(agentInfo, "not a checkpoint");
        Agent agent = new Agent(config(new TrackingDetector(), workDir).build());
        assertThatThrownBy(agent::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("corrupt checkpoint file " + agentInfo + ": ")
                .hasMessageContaining("--recover=cleanup");
        agent.close();
        // It is left for the operator to inspect.
        assertThat(Files.readString(agentInfo)).isEqualTo("not a checkpoint");

        // --recover=cleanup starts anew regardless.
        try (Agent fresh = new Agent(config(new TrackingDetector(), workDir)
                .recover(AgentConfig.RecoverMode.CLEANUP).build()).start()) {
            assertThat(fresh.agentId()).isEmpty();
            assertThat(agentInfo).doesNotExist();
        }
    }

    @Test
    void failsToStartWhenTheWorkDirCannotBeCreated() throws Exception {
        Path file = Files.writeString(workDir.resolve("file"), "x");
        Agent agent = new Agent(config(new TrackingDetector(), file.resolve("sub")).build());
        assertThatThrownBy(agent::start)
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith("cannot use --work_dir " + file.resolve("sub"));
        agent.close();
    }

    @Test
    void closeBeforeStartIsFine() {
        TrackingDetector detector = new TrackingDetector();
        Agent agent = new Agent(config(detector, workDir).build());
        agent.close();
        agent.close();
        assertThat(detector.closed).isTrue();
        assertThat(agent.registered()).isCompletedExceptionally();
        assertThat(agent.state()).isCompletedExceptionally();
    }

    private AgentConfig.Builder config(MasterDetector detector, Path dir) {
        return AgentConfig.builder()
                .masterDetector(detector)
                .port(0)
                .workDir(dir)
                .isolation(AgentConfig.IsolationMode.POSIX)
                .clock(clock)
                .faultHandler(faults);
    }

    /** A detector that never finds a leader and remembers being closed. */
    private static final class TrackingDetector implements MasterDetector {
        volatile boolean closed;

        @Override
        public Optional<MasterInfo> leader() {
            return Optional.empty();
        }

        @Override
        public void addListener(Consumer<Optional<MasterInfo>> listener) {
            listener.accept(Optional.empty());
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
