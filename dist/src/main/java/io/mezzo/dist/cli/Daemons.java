package io.mezzo.dist.cli;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Keeps a daemon command running until the process is told to stop (SIGINT/SIGTERM) or it stops itself. */
final class Daemons {

    private static final Logger LOG = LoggerFactory.getLogger(Daemons.class);

    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile int exitCode;

    /** Closes {@code parts} in order on SIGINT/SIGTERM or {@link #stop}. */
    Daemons(String name, AutoCloseable... parts) {
        java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable close = () -> {
            if (!closing.compareAndSet(false, true)) {
                return;
            }
            for (AutoCloseable part : parts) {
                try {
                    part.close();
                } catch (Exception e) {
                    LOG.warn("Stopping {}: {} did not close cleanly: {}", name, part, e.toString());
                }
            }
            closed.countDown();
        };
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stopped.getCount() > 0) {
                LOG.info("Stopping {} on signal", name);
                stopped.countDown();
            }
            close.run();
            try {
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "mezzo-shutdown"));
        Thread closer = new Thread(() -> {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            close.run();
        }, "mezzo-stopper");
        closer.setDaemon(true);
        closer.start();
    }

    /** Asks the daemon to stop with {@code code} (for example, the master told an agent to shut down). */
    void stop(int code) {
        exitCode = code;
        stopped.countDown();
    }

    /** Blocks until stopped and closed; returns the exit code. */
    int await() throws InterruptedException {
        stopped.await();
        closed.await();
        return exitCode;
    }
}
