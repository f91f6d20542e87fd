package io.mezzo.dist.logging;

import ch.qos.logback.classic.pattern.ThrowableHandlingConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import java.util.List;

/**
 * {@code %mezzoEx}: the exception of a log line. For the ZooKeeper and Curator clients (loggers
 * under {@code org.apache.zookeeper} and {@code org.apache.curator}) it is one clause on the same
 * line, {@code  [java.net.ConnectException: Connection refused; caused by ...]}: their warnings
 * about a lost server or a retried connection are expected events for an operator, not bugs, and a
 * stack trace of forty lines per retry buries the lines that matter. Mezzo's own exceptions keep
 * their full stack trace on the following lines.
 *
 * <p>Thread-safe as Logback requires (no state after start).
 */
public final class OneLineThrowableConverter extends ThrowableHandlingConverter {

    /** Loggers whose exceptions print on one line. */
    static final List<String> ONE_LINE = List.of("org.apache.zookeeper", "org.apache.curator");

    private final ThrowableProxyConverter full = new ThrowableProxyConverter();

    @Override
    public void start() {
        full.setContext(getContext());
        full.start();
        super.start();
    }

    @Override
    public String convert(ILoggingEvent event) {
        IThrowableProxy t = event.getThrowableProxy();
        if (t == null) {
            return "";
        }
        if (ONE_LINE.stream().noneMatch(event.getLoggerName()::startsWith)) {
            String trace = full.convert(event);
            return trace.isEmpty() ? "" : System.lineSeparator() + trace.stripTrailing();
        }
        StringBuilder b = new StringBuilder(" [");
        for (IThrowableProxy c = t; c != null; c = c.getCause()) {
            if (c != t) {
                b.append("; caused by ");
            }
            b.append(c.getClassName());
            if (c.getMessage() != null) {
                b.append(": ").append(c.getMessage().replace('\n', ' ').replace('\r', ' '));
            }
        }
        return b.append(']').toString();
    }
}
