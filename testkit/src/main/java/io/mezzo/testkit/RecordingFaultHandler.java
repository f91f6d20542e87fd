package io.mezzo.testkit;

import io.mezzo.common.loop.FaultHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every fault so that a test can assert there were none. Also logs them, so the test log
 * shows the stack trace.
 */
public final class RecordingFaultHandler implements FaultHandler {

    private static final Logger LOG = LoggerFactory.getLogger(RecordingFaultHandler.class);

    private final List<String> faults = new CopyOnWriteArrayList<>();

    @Override
    public void handleFault(String message, Throwable cause) {
        LOG.error("Fault recorded: {}", message, cause);
        faults.add(message + (cause == null ? "" : ": " + cause));
    }

    /** The faults seen so far, oldest first. */
    public List<String> faults() {
        return List.copyOf(faults);
    }

    /** Throws if any fault was recorded. */
    public void assertNoFaults() {
        if (!faults.isEmpty()) {
            throw new AssertionError("faults were recorded: " + faults);
        }
    }
}
