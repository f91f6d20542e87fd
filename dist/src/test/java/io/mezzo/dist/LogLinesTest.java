package io.mezzo.dist;

import static io.mezzo.testkit.Protos.shellTask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mezzo.agent.Agent;
import io.mezzo.dist.Cluster.Framework;
import io.mezzo.dist.logging.OneLineThrowableConverter;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.TaskState;
import io.mezzo.testkit.Timeouts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * "One line per event" for what SREs grep: the main lifecycle lines of master and agent carry the
 * ids of what they concern in the MDC (and no stale ones), ZooKeeper's and Curator's exceptions stay
 * on their line, and --log_format=json writes the ids as fields.
 */
class LogLinesTest {

    @TempDir
    Path work;

    /** The events logged while it is open, from every logger. */
    private static final class Captured implements AutoCloseable {
        final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        Captured() {
            appender.start();
            root.addAppender(appender);
        }

        /** The MDC of the first line whose message starts with {@code prefix}. */
        Map<String, String> mdcOf(String prefix) {
            synchronized (appender) {
                return appender.list.stream().filter(e -> e.getFormattedMessage().startsWith(prefix)).findFirst()
                        .map(ILoggingEvent::getMDCPropertyMap).orElseThrow(() -> new AssertionError("no line " + prefix));
            }
        }

        boolean has(String prefix) {
            synchronized (appender) {
                return appender.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith(prefix));
            }
        }

        @Override
        public void close() {
            root.detachAppender(appender);
        }
    }

    @Test
    void lifecycleLinesCarryTheIdsOfWhatTheyConcern() throws Exception {
        try (Captured log = new Captured(); Cluster cluster = new Cluster(work)) {
            Agent agent = cluster.agent("cpus:2;mem:1024;disk:1024");
            String agentId = agent.agentId().orElseThrow().value();
            Framework fw = cluster.framework(Cluster.frameworkInfo("logged").setFailoverTimeout(0).build());
            String fwId = fw.frameworkId.getValue();
            Offer offer = fw.takeOffer(agentId);
            fw.driver.launch(offer.getId(), List.of(shellTask("noted", offer, "true")));
            assertThat(fw.updatesUntilTerminal("noted")).last().extracting(s -> s.getState())
                    .isEqualTo(TaskState.TASK_FINISHED);
            cluster.settle();

            assertThat(log.mdcOf("Launching task noted")).containsEntry("task", "noted")
                    .containsEntry("framework", fwId).containsEntry("agent", agentId);
            assertThat(log.mdcOf("Task noted of framework " + fwId + " on agent " + agentId + " is TASK_RUNNING"))
                    .containsEntry("task", "noted").containsEntry("framework", fwId).containsEntry("agent", agentId);
            assertThat(log.mdcOf("Registered agent " + agentId)).containsEntry("agent", agentId)
                    .doesNotContainKeys("task", "framework");
            assertThat(log.mdcOf("Subscribed framework " + fwId)).containsEntry("framework", fwId)
                    .doesNotContainKey("task");

            // The framework goes away for good: its removal is a separate event, and says whose it is.
            fw.driver.close();
            cluster.advance(Duration.ofSeconds(1));
            await().atMost(Timeouts.WAIT).until(() -> log.has("Removed framework " + fwId));
            assertThat(log.mdcOf("Removed framework " + fwId)).containsEntry("framework", fwId)
                    .doesNotContainKey("task");
        }
    }

    @Test
    void zooKeeperExceptionsStayOnTheirLineAndOursKeepTheirTrace() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.getInstanceConverterMap().put("mezzoEx", OneLineThrowableConverter::new);
        layout.setPattern("%level %logger{0} %msg%mezzoEx%n");
        layout.start();
        Exception e = new java.net.ConnectException("Connection refused");
        e.initCause(new java.io.IOException("no route\nto host"));
        String zk = layout.doLayout(event("org.apache.zookeeper.ClientCnxn", "Session 0x1 closed", e));
        assertThat(zk).isEqualTo("WARN ClientCnxn Session 0x1 closed [java.net.ConnectException: Connection refused;"
                + " caused by java.io.IOException: no route to host]" + System.lineSeparator());
        String curator = layout.doLayout(event("org.apache.curator.ConnectionState", "retrying", e));
        assertThat(curator.lines().count()).isEqualTo(1);
        String ours = layout.doLayout(event("io.mezzo.master.MasterCore", "broken", new IllegalStateException("x")));
        assertThat(ours.lines().count()).isGreaterThan(2);
        assertThat(ours).contains("java.lang.IllegalStateException: x").contains("\tat ");
    }

    @Test
    void jsonLinesCarryTheIdsAsFields() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        var json = io.mezzo.dist.cli.LoggingOptionsAccess.jsonEncoder(context);
        LoggingEvent e = event("io.mezzo.master.TaskLifecycle", "Task t1 is TASK_RUNNING", null);
        e.setMDCPropertyMap(Map.of("task", "t1", "framework", "f1"));
        String line = new String(json.encode(e), StandardCharsets.UTF_8);
        assertThat(line.lines().count()).isEqualTo(1);
        assertThat(line).contains("\"level\":\"INFO\"").contains("\"loggerName\":\"io.mezzo.master.TaskLifecycle\"")
                .contains("\"task\":\"t1\"").contains("\"framework\":\"f1\"")
                .contains("\"formattedMessage\":\"Task t1 is TASK_RUNNING\"");
    }

    private static LoggingEvent event(String logger, String message, Throwable t) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        LoggingEvent e = new LoggingEvent("test", context.getLogger(logger),
                t == null ? ch.qos.logback.classic.Level.INFO : ch.qos.logback.classic.Level.WARN, message, t, null);
        return e;
    }
}
