package io.mezzo.master;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The log lines (formatted messages) one class logs while this is open, from every master in the
 * JVM: for tests that check an event happened once ("Removed framework ..." across failovers).
 *
 * <p>Thread-safe: loops log, the test reads a copy.
 */
final class LogLines implements AutoCloseable {

    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogLines(Class<?> source) {
        this(source.getName());
    }

    /** The lines of the logger named {@code name} (e.g. {@code io.mezzo.audit}). */
    LogLines(String name) {
        logger = (Logger) LoggerFactory.getLogger(name);
        appender.start();
        logger.addAppender(appender);
    }

    /** The lines logged so far that contain {@code text}. */
    List<String> containing(String text) {
        synchronized (appender) {
            // AppenderBase appends under the appender's own lock.
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(text)).toList();
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
