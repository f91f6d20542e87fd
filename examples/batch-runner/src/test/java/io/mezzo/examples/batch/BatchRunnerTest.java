package io.mezzo.examples.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.mezzo.agent.Agent;
import io.mezzo.agent.AgentConfig;
import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.scheduler.TaskHistory;
import io.mezzo.testkit.RecordingFaultHandler;
import io.mezzo.testkit.Timeouts;
import io.mezzo.testkit.ZkEnsemble;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The example end to end: three masters on ZooKeeper, two real agents running real shell tasks,
 * and the batch runner given the zk:// URL. The leading master is killed while the tasks run.
 */
class BatchRunnerTest {

    /** First attempts of task-1, -3 and -5 fail; task-7 always fails; the rest sleep and succeed. */
    private static final String COMMAND = "case $MEZZO_TASK_ID in task-1.1|task-3.1|task-5.1) exit 1;;"
            + " task-7.*) exit 2;; esac; sleep 3";

    @TempDir
    Path work;

    private ZkEnsemble zk;
    private final RecordingFaultHandler faults = new RecordingFaultHandler();
    private final List<Master> masters = new ArrayList<>();
    private final List<Agent> agents = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        zk = new ZkEnsemble(1);
        for (int i = 0; i < 3; i++) {
            Master m = new Master(MasterConfig.builder().ip("127.0.0.1").port(0).httpPort(0).idPrefix("m" + i)
                    .zk(zk.url("/mezzo")).zkSessionTimeout(Duration.ofSeconds(2)).faultHandler(faults).build());
            masters.add(m);
            m.start();
            if (i == 0) {
                m.elected().get(30, TimeUnit.SECONDS);
            }
        }
        for (int i = 1; i <= 2; i++) {
            Agent a = new Agent(AgentConfig.builder().master(zk.url("/mezzo")).ip("127.0.0.1").port(0)
                    .hostname("agent-" + i).workDir(work.resolve("agent-" + i)).resources("cpus:1;mem:512;disk:512")
                    .statusUpdateRetry(Duration.ofMillis(500), Duration.ofSeconds(2))
                    .registrationBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                    .allowRootTasks(true) // the tests may run as root; the tasks then do too
                    .faultHandler(faults).build());
            agents.add(a);
            a.start();
            a.registered().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void stop() throws Exception {
        agents.forEach(Agent::close);
        masters.forEach(Master::close);
        zk.close();
        faults.assertNoFaults();
    }

    @Test
    void runsTenTasksWithRetriesAndSurvivesTheLeadersDeath() throws Exception {
        CompletableFuture<List<TaskHistory>> run = CompletableFuture.supplyAsync(() -> {
            try {
                return BatchRunner.run(zk.url("/mezzo"), COMMAND);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        await("tasks running").atMost(Timeouts.PROCESS).until(() -> running() >= 3);

        Master leader = masters.stream().filter(Master::isLeading).findFirst().orElseThrow();
        leader.faults().crash();
        leader.faults().expireZkSession();

        List<TaskHistory> results = run.get(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS);
        assertThat(masters.stream().filter(Master::isLeading).findFirst()).get().isNotSameAs(leader);
        String summary = BatchRunner.summary(results);
        System.out.println(summary);
        assertThat(results).hasSize(10);
        for (TaskHistory task : results) {
            switch (task.name()) {
                case "task-1", "task-3", "task-5" -> assertThat(task.attempts()).extracting(TaskHistory.Attempt::state)
                        .containsExactly(TaskState.TASK_FAILED, TaskState.TASK_FINISHED);
                case "task-7" -> assertThat(task.attempts()).as("retried twice, then given up")
                        .extracting(TaskHistory.Attempt::state).containsOnly(TaskState.TASK_FAILED).hasSize(3);
                default -> assertThat(task.succeeded()).as(task.toString()).isTrue();
            }
        }
        assertThat(summary).endsWith("9 of 10 tasks finished; 4 needed more than one attempt");
    }

    @Test
    void withLogbackAndNoConfigurationTheLibraryIsQuiet() {
        // This module has logback-classic and no logback.xml, as a new framework would.
        assertThat(LoggerFactory.getLogger("io.grpc.netty.shaded.io.netty.handler.codec.http2").isDebugEnabled()).isFalse();
        assertThat(LoggerFactory.getLogger("org.apache.zookeeper.ZooKeeper").isInfoEnabled())
                .as("ZooKeeper's client prints the whole class path at INFO").isFalse();
        assertThat(LoggerFactory.getLogger("io.mezzo.scheduler.MezzoSchedulerClient").isInfoEnabled()).isTrue();
    }

    private long running() throws Exception {
        long n = 0;
        for (Agent a : agents) {
            n += a.state().get(10, TimeUnit.SECONDS).getTasksList().stream()
                    .filter(t -> t.getState() == TaskState.TASK_RUNNING).count();
        }
        return n;
    }
}
