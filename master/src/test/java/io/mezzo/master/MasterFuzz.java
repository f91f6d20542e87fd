package io.mezzo.master;

/**
 * The long fuzzing run (test scope, like the benchmarks): {@code runs} seeds from {@code first}, each
 * {@code steps} steps of {@link MasterFuzzer}. Prints every finding with its seed and step, and the
 * totals; exits 1 if anything was found. See docs/benchmarks.md for the command.
 */
public final class MasterFuzz {

    private MasterFuzz() {}

    /** Arguments: first seed (default 1), number of seeds (default 100), steps per seed (default 500). */
    public static void main(String[] args) {
        long first = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int findings = 0;
        long started = System.nanoTime();
        for (long seed = first; seed < first + runs; seed++) {
            try {
                new MasterFuzzer(seed).run(steps);
            } catch (AssertionError e) {
                findings++;
                System.out.println("FINDING " + e.getMessage());
                if (e.getCause() != null) {
                    e.getCause().printStackTrace(System.out);
                }
            }
        }
        System.out.printf("%d seeds x %d steps = %d inputs in %.1f s; %d findings%n", runs, steps,
                (long) runs * steps, (System.nanoTime() - started) / 1e9, findings);
        System.exit(findings == 0 ? 0 : 1);
    }
}
