package io.mezzo.dist.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.TimeBasedRollingPolicy;
import io.mezzo.dist.logging.OneLineThrowableConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** {@code --log_dir}, {@code --logging_level} and {@code --log_format}, shared by the daemon commands. */
final class LoggingOptions {

    /**
     * The one-line-per-event pattern, also in conf/logback.xml. {@code %mezzoEx} prints ZooKeeper's
     * and Curator's exceptions on the line of their message ({@link OneLineThrowableConverter}).
     */
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0} [%thread]"
            + "%replace( agent=%X{agent}){' agent=$', ''}%replace( framework=%X{framework}){' framework=$', ''}"
            + "%replace( task=%X{task}){' task=$', ''} %msg%mezzoEx%n";

    /**
     * {@code --log_format}: {@code text}, one line per event as {@link #PATTERN}; or {@code json},
     * one JSON object per line (Logback's JsonEncoder: level, logger, thread, the MDC ids, message).
     */
    @Option(names = "--log_format", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (one line per event) or json (one JSON object per line, the ids as fields of"
                    + " \"mdc\"), on the console and in --log_dir. Default: ${DEFAULT-VALUE}.")
    String format = "text";

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
        boolean json = switch (format.toLowerCase(java.util.Locale.ROOT)) {
            case "text" -> false;
            case "json" -> true;
            default -> throw new IllegalArgumentException("--log_format '" + format + "' is not text or json");
        };
        root.setLevel(parsed);
        registerConverter(context);
        if (json) {
            for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof ch.qos.logback.core.OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> a) {
                    a.stop();
                    a.setEncoder(jsonEncoder(context));
                    a.start();
                }
            }
        }
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
        ch.qos.logback.core.encoder.Encoder<ch.qos.logback.classic.spi.ILoggingEvent> encoder;
        if (json) {
            encoder = jsonEncoder(context);
        } else {
            PatternLayoutEncoder pattern = new PatternLayoutEncoder();
            pattern.setContext(context);
            pattern.setPattern(PATTERN);
            pattern.start();
            encoder = pattern;
        }
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

    /** Logback's own JSON encoder: one object per line; the MDC ids are fields of "mdc". */
    static ch.qos.logback.classic.encoder.JsonEncoder jsonEncoder(LoggerContext context) {
        ch.qos.logback.classic.encoder.JsonEncoder json = new ch.qos.logback.classic.encoder.JsonEncoder();
        json.setContext(context);
        json.setWithSequenceNumber(false);
        json.setWithNanoseconds(false);
        json.setWithContext(false);
        json.setWithArguments(false);
        json.setWithMessage(false);
        json.setWithFormattedMessage(true);
        json.start();
        return json;
    }

    /** Makes {@code %mezzoEx} known to the patterns built here (conf/logback.xml declares it too). */
    @SuppressWarnings("unchecked")
    static void registerConverter(LoggerContext context) {
        Object registry = context.getObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS);
        java.util.Map<String, java.util.function.Supplier<?>> map;
        if (registry instanceof java.util.Map<?, ?> m) {
            map = (java.util.Map<String, java.util.function.Supplier<?>>) m;
        } else {
            map = new java.util.HashMap<>();
            context.putObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, map);
        }
        map.putIfAbsent("mezzoEx", OneLineThrowableConverter::new);
    }
}
