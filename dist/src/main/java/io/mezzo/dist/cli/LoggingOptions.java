package io.mezzo.dist.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.TimeBasedRollingPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** {@code --log_dir} and {@code --logging_level}, shared by the daemon commands. */
final class LoggingOptions {

    /** The one-line-per-event pattern, also in conf/logback.xml. */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} [%thread]"
            + "%replace( agent=%X{agent}){' agent=$', ''}%replace( framework=%X{framework}){' framework=$', ''}"
            + "%replace( task=%X{task}){' task=$', ''} %msg%n";

    @Option(names = "--log_dir", paramLabel = "DIR",
            description = "Also write logs to DIR/mezzo-<command>.log, rolled daily and kept 14 days."
                    + " Default: console (stderr) only.")
    Path logDir;

    @Option(names = "--logging_level", paramLabel = "LEVEL",
            description = "Lowest level logged: TRACE, DEBUG, INFO, WARN or ERROR."
                    + " Default: INFO for daemons, WARN for mezzo run.")
    String level;

    /** Applies the options with INFO as the default level. */
    void apply(String role) {
        apply(role, "INFO");
    }

    /** Applies the options; throws IllegalArgumentException for a bad level or log dir. */
    void apply(String role, String defaultLevel) {
        if (level == null) {
            level = defaultLevel;
        }
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level parsed = Level.toLevel(level, null);
        if (parsed == null) {
            throw new IllegalArgumentException("--logging_level '" + level + "' is not TRACE, DEBUG, INFO, WARN or ERROR");
        }
        root.setLevel(parsed);
        if (logDir == null) {
            return;
        }
        try {
            Files.createDirectories(logDir);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--log_dir " + logDir + " cannot be created: " + e.getMessage());
        }
        if (!Files.isWritable(logDir)) {
            throw new IllegalArgumentException("--log_dir " + logDir + " is not writable");
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        RollingFileAppender<ch.qos.logback.classic.spi.ILoggingEvent> file = new RollingFileAppender<>();
        file.setContext(context);
        file.setName("FILE");
        file.setFile(logDir.resolve("mezzo-" + role + ".log").toString());
        TimeBasedRollingPolicy<ch.qos.logback.classic.spi.ILoggingEvent> policy = new TimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(file);
        policy.setFileNamePattern(logDir.resolve("mezzo-" + role + ".%d{yyyy-MM-dd}.log").toString());
        policy.setMaxHistory(14);
        policy.start();
        file.setRollingPolicy(policy);
        file.setEncoder(encoder);
        file.start();
        root.addAppender(file);
    }
}
