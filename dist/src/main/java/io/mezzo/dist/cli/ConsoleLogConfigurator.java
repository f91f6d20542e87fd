package io.mezzo.dist.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's configuration for the client commands ({@code mezzo run}, {@code mezzo tls}, help,
 * version), made in code: the same console output as {@code conf/logback.xml} (stderr, {@link
 * LoggingOptions#PATTERN}, gRPC, Netty, ZooKeeper and Curator at WARN) without parsing XML, which
 * loads about a tenth of a short command's classes. Logback finds it through {@code
 * META-INF/services} before its own configurators.
 *
 * <p>It steps aside ({@link ExecutionStatus#NEUTRAL}) whenever a file configures logging: {@code
 * -Dlogback.configurationFile} (bin/mezzo passes {@code conf/logback.xml} to the daemons; a user may
 * pass one in {@code MEZZO_JAVA_OPTS}) or a {@code logback-test.xml} / {@code logback.xml} on the
 * class path (tests). Called once, by Logback, on the thread that first asks for a logger.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class ConsoleLogConfigurator extends ContextAwareBase implements Configurator {

    /** Loggers quieter than the root: libraries that are chatty at INFO. */
    private static final String[] QUIET = {"io.grpc", "io.netty", "org.apache.zookeeper", "org.apache.curator"};

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ClassLoader loader = ConsoleLogConfigurator.class.getClassLoader();
        if (System.getProperty("logback.configurationFile") != null
                || loader.getResource("logback-test.xml") != null
                || loader.getResource("logback.xml") != null) {
            return ExecutionStatus.NEUTRAL;
        }
        install(context);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** The client console configuration, on {@code context}. */
    static void install(LoggerContext context) {
        // The pattern's %mezzoEx (ZooKeeper's exceptions on one line) must be known before it is parsed.
        LoggingOptions.registerConverter(context);
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(LoggingOptions.PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("CONSOLE");
        console.setTarget("System.err");
        console.setEncoder(encoder);
        console.start();
        for (String name : QUIET) {
            context.getLogger(name).setLevel(Level.WARN);
        }
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getProperty("mezzo.log.level"), Level.INFO));
        root.addAppender(console);
    }
}
