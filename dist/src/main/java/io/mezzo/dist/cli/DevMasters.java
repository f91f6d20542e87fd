package io.mezzo.dist.cli;

import io.mezzo.master.Master;
import io.mezzo.master.MasterConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The masters of {@code mezzo dev}: one, or {@code --masters N} on the embedded ZooKeeper, so that a
 * framework author can try a real failover on one machine. With several, a line on standard input
 * kills the leading master (it is closed: its streams break and the others elect a new leader, as
 * after a crash that ZooKeeper noticed at once); once a new leader is elected, the killed master
 * comes back as a standby on its old ports, so it can be done again.
 *
 * <p><b>Threads.</b> Started and closed by {@link DevCommand}'s thread; kills run on the {@code
 * mezzo-dev-failover} thread (one at a time), losses of leadership on the masters' election
 * threads. The array of masters is guarded by {@code this}. <b>Owner:</b> {@link DevCommand}.
 *
 * <p>Master {@code i} (from 0) listens on {@code port + 10 * i} and {@code httpPort + 10 * i}
 * (any free ports when they are 0).
 */
final class DevMasters implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DevMasters.class);
    static final int PORT_STEP = 10;

    private final String zkUrl;
    private final int port;
    private final int httpPort;
    private final Consumer<String> onLostSingle;
    private final Consumer<MasterConfig.Builder> customize;
    private final Master[] masters;
    private final boolean[] killing;
    private volatile boolean closed;

    /**
     * {@code count} masters on {@code zkUrl}. With one, {@code onLostSingle} is told when it loses
     * leadership for good (the dev cluster then stops, as before); with several, a master that loses
     * leadership is restarted as a standby.
     */
    DevMasters(int count, String zkUrl, int port, int httpPort, Consumer<String> onLostSingle) {
        this(count, zkUrl, port, httpPort, onLostSingle, c -> { });
    }

    /** As above, with {@code customize} applied to every master's configuration (mezzo dev --secure). */
    DevMasters(int count, String zkUrl, int port, int httpPort, Consumer<String> onLostSingle,
            Consumer<MasterConfig.Builder> customize) {
        if (count < 1 || count > 5) {
            throw new IllegalArgumentException("--masters must be between 1 and 5, got " + count);
        }
        this.zkUrl = zkUrl;
        this.port = port;
        this.httpPort = httpPort;
        this.onLostSingle = onLostSingle;
        this.customize = customize;
        this.masters = new Master[count];
        this.killing = new boolean[count];
    }

    /** The configuration of master {@code i}. */
    MasterConfig configFor(int i) {
        MasterConfig.Builder b = MasterConfig.builder()
                .ip("127.0.0.1")
                .port(port == 0 ? 0 : port + PORT_STEP * i)
                .httpPort(httpPort == 0 ? 0 : httpPort + PORT_STEP * i)
                .zk(zkUrl)
                .onLostLeadership(reason -> lost(i, reason));
        customize.accept(b);
        return b.build();
    }

    /** Starts every master and waits until one leads. */
    void start() throws Exception {
        for (int i = 0; i < masters.length; i++) {
            Master m = new Master(configFor(i));
            synchronized (this) {
                masters[i] = m;
            }
            m.start();
            if (i == 0) {
                m.elected().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** How many masters run. */
    int count() {
        return masters.length;
    }

    /** Master {@code i}, as it runs now. */
    synchronized Master master(int i) {
        return masters[i];
    }

    /** The master leading now, if any. */
    synchronized Optional<Master> leader() {
        for (Master m : masters) {
            if (m != null && m.isLeading()) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Reads standard input on a daemon thread: every line kills the leading master. */
    void killLeaderOnEachLine(InputStream in, PrintStream out) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                while (!closed && r.readLine() != null) {
                    killLeader(out);
                }
            } catch (IOException e) {
                LOG.debug("Stopped reading standard input: {}", e.toString());
            }
        }, "mezzo-dev-failover");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Kills the leading master, waits for another to lead, then restarts the killed one as a
     * standby; says what happened on {@code out}. Returns the index of the killed master, or -1.
     */
    int killLeader(PrintStream out) {
        int index;
        Master dead;
        synchronized (this) {
            index = -1;
            for (int i = 0; i < masters.length; i++) {
                if (masters[i] != null && masters[i].isLeading()) {
                    index = i;
                }
            }
            if (index < 0 || masters.length == 1 || closed) {
                out.println(masters.length == 1 ? "Only one master runs: start mezzo dev --masters 3 to try a failover."
                        : "No master leads right now; try again in a moment.");
                out.flush();
                return -1;
            }
            dead = masters[index];
            killing[index] = true;
        }
        String address = "127.0.0.1:" + dead.port();
        out.println("Killing the leading master " + address + " (epoch " + dead.info().getEpoch() + ") ...");
        out.flush();
        dead.close();
        List<CompletableFuture<?>> others = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < masters.length; i++) {
                if (i != index) {
                    others.add(masters[i].elected());
                }
            }
        }
        String next;
        try {
            CompletableFuture.anyOf(others.toArray(CompletableFuture[]::new))
                    .get(60, TimeUnit.SECONDS);
            next = leader().map(m -> "New leading master: 127.0.0.1:" + m.port() + " (epoch " + m.info().getEpoch() + ")")
                    .orElse("A new master was elected");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return index;
        } catch (ExecutionException | TimeoutException e) {
            next = "No new leader within 60 s: " + e;
        }
        out.println(next);
        restart(index, address, out);
        return index;
    }

    private void restart(int index, String address, PrintStream out) {
        if (closed) {
            return;
        }
        Master fresh = new Master(configFor(index));
        try {
            fresh.start();
        } catch (IOException e) {
            out.println("Could not restart master " + address + ": " + e.getMessage());
            out.flush();
            return;
        }
        synchronized (this) {
            masters[index] = fresh;
            killing[index] = false;
        }
        out.println("Restarted the killed master as a standby on 127.0.0.1:" + fresh.port()
                + ". Press Enter again to kill the leader.");
        out.flush();
    }

    /** Election thread of master {@code i}: it lost leadership for good. */
    private void lost(int i, String reason) {
        if (masters.length == 1) {
            onLostSingle.accept(reason);
            return;
        }
        synchronized (this) {
            if (killing[i] || closed) {
                return;
            }
            killing[i] = true;
        }
        LOG.warn("Master {} lost its leadership ({}); restarting it as a standby", i, reason);
        Thread t = new Thread(() -> {
            Master m = master(i);
            String address = "127.0.0.1:" + m.port();
            m.close();
            restart(i, address, System.out);
        }, "mezzo-dev-restart");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        closed = true;
        List<Master> all = new ArrayList<>();
        synchronized (this) {
            for (Master m : masters) {
                if (m != null) {
                    all.add(m);
                }
            }
        }
        all.forEach(Master::close);
    }

    @Override
    public String toString() {
        return "dev masters on " + zkUrl;
    }
}
