package io.mezzo.common.loop;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs faults at ERROR with their stack trace and keeps the daemon serving. */
public final class LoggingFaultHandler implements FaultHandler {

    private static final Logger LOG = LoggerFactory.getLogger(LoggingFaultHandler.class);

    /** The shared instance. */
    public static final LoggingFaultHandler INSTANCE = new LoggingFaultHandler();

    private LoggingFaultHandler() {}

    @Override
    public void handleFault(String message, Throwable cause) {
        LOG.error("Internal fault: {}", message, cause);
    }
}
