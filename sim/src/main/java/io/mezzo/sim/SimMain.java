package io.mezzo.sim;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * {@code mezzo-sim}: runs many seeds, or replays one with its trace.
 *
 * <pre>
 *   java -jar sim/target/mezzo-sim.jar --seeds 10000 [--from 1]    many seeds; failures print how to replay
 *   java -jar sim/target/mezzo-sim.jar --seed 4242 [--trace 400]    one seed, with the last lines of its trace
 * </pre>
 *
 * <p>Exit status: 0 when every seed passed, 1 when one failed, 2 on a usage error. The daemons'
 * logs are silenced (WARN and above go to stderr only with {@code --logs}).
 */
public final class SimMain {

    private SimMain() {}

    public static void main(String[] args) {
        long from = 1;
        long seeds = 100;
        Long single = null;
        int traceLines = 200;
        boolean logs = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--seeds" -> seeds = Long.parseLong(args[++i]);
                    case "--from" -> from = Long.parseLong(args[++i]);
                    case "--seed" -> single = Long.parseLong(args[++i]);
                    case "--trace" -> traceLines = Integer.parseInt(args[++i]);
                    case "--logs" -> logs = true;
                    default -> throw new IllegalArgumentException("unknown flag " + args[i]);
                }
            }
        } catch (RuntimeException e) {
            System.err.println("mezzo-sim: " + e.getMessage());
            System.err.println("usage: mezzo-sim [--seeds N] [--from S] | --seed S [--trace LINES] [--logs]");
            System.exit(2);
            return;
        }
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(logs ? Level.WARN : Level.OFF);
        if (single != null) {
            Simulation.Result r = Simulation.run(single, traceLines);
            r.trace().forEach(System.out::println);
            System.out.println(describe(r));
            System.exit(r.passed() ? 0 : 1);
            return;
        }
        long started = System.nanoTime();
        long failed = 0;
        long steps = 0;
        long launched = 0;
        for (long seed = from; seed < from + seeds; seed++) {
            Simulation.Result r = Simulation.run(seed, 0);
            steps += r.steps();
            launched += r.launched();
            if (!r.passed()) {
                failed++;
                System.out.println(describe(r));
            }
            long done = seed - from + 1;
            if (done % 250 == 0 && done < seeds) {
                System.out.printf(Locale.ROOT, "... %d seeds, %d failed, %.1f s%n", done, failed,
                        (System.nanoTime() - started) / 1e9);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf(Locale.ROOT, "%d seeds from %d: %d passed, %d failed in %.1f s (%d steps, %d tasks launched)%n",
                seeds, from, seeds - failed, failed, seconds, steps, launched);
        System.exit(failed == 0 ? 0 : 1);
    }

    /** One line per seed, and for a failure the violations and the command that replays it. */
    static String describe(Simulation.Result r) {
        if (r.passed()) {
            return "seed " + r.seed() + " passed (" + r.steps() + " steps, " + r.launched() + " tasks, faults "
                    + r.faults() + ")";
        }
        return "seed " + r.seed() + " FAILED (faults " + r.faults() + "): " + String.join("; ", r.violations())
                + "\n  replay: " + replayCommand(r.seed());
    }

    /** The command that replays {@code seed} exactly, with its trace. */
    static String replayCommand(long seed) {
        return "java -jar sim/target/mezzo-sim.jar --seed " + seed + " --trace 400";
    }
}
