package io.mezzo.scheduler.logback;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.List;
import org.slf4j.Logger;

/**
 * Logback's configuration for a framework that brings logback-classic and no configuration of its
 * own: INFO to standard error, and WARN for the chatty libraries under the scheduler library, instead
 * of logback's own default (everything at DEBUG, hundreds of lines per run from gRPC's Netty
 * handlers, and the whole class path printed at INFO by ZooKeeper's client for a {@code zk://}
 * master).
 *
 * <p>Logback finds it through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}
 * and asks it before its own file lookup, so it steps aside when there is a configuration to
 * honour: a {@code logback.configurationFile} system property, or a {@code logback-test.xml} or
 * {@code logback.xml} on the class path. The levels it sets:
 *
 * <ul>
 *   <li>root: INFO (the scheduler library logs subscriptions, disconnections and failovers there);
 *   <li>{@code io.grpc}, {@code io.netty}, {@code org.apache.zookeeper}, {@code org.apache.curator}:
 *       WARN.
 * </ul>
 *
 * <p>Without logback on the class path this class is never loaded. Called once by logback, on the
 * thread that first asks SLF4J for a logger.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_LOW_PRIORITY)
public final class QuietDefaults extends ContextAwareBase implements Configurator {

    /** The same one-line-per-event pattern as the Mezzo daemons. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} [%thread]"
            + "%replace( framework=%X{framework}){' framework=$', ''}%replace( task=%X{task}){' task=$', ''} %msg%n";

    /** Loggers kept at WARN. */
    static final List<String> QUIET = List.of("io.grpc", "io.netty", "org.apache.zookeeper", "org.apache.curator");

    /** For the service loader. */
    public QuietDefaults() {}

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (hasOwnConfiguration()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        addInfo("No logback configuration found: INFO to stderr, WARN for " + QUIET + " (io.mezzo.scheduler)");
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setTarget("System.err");
        console.setEncoder(encoder);
        console.start();
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
        QUIET.forEach(name -> context.getLogger(name).setLevel(Level.WARN));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static boolean hasOwnConfiguration() {
        if (System.getProperty("logback.configurationFile") != null) {
            return true;
        }
        ClassLoader loader = QuietDefaults.class.getClassLoader();
        return loader.getResource("logback-test.xml") != null || loader.getResource("logback.xml") != null;
    }
}
