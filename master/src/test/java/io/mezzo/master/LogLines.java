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

    /** The lines of every logger under {@code name} (e.g. a package). */
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

    /** The longest line logged since the last call, and forgets them all (long runs keep no history). */
    String takeLongest() {
        synchronized (appender) {
            String longest = appender.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .max(java.util.Comparator.comparingInt(String::length)).orElse("");
            appender.list.clear();
            return longest;
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
