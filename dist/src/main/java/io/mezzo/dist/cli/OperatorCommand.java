package io.mezzo.dist.cli;

import java.io.PrintStream;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * The shape of every operator command ({@code mezzo agents}, {@code mezzo quota set}, ...):
 * connect to the leader with {@link MasterOptions}, do one thing through {@link LeaderConnection},
 * print to stdout, and end with an {@link ExitCodes} code. Failures are thrown as {@link
 * CliFailure} (or IllegalArgumentException for bad input) and printed by {@link MezzoCommand}.
 * Runs on the main thread.
 */
abstract class OperatorCommand implements Callable<Integer> {

    @Mixin
    MasterOptions masterOptions;

    @Override
    public final Integer call() {
        validate();
        try (LeaderConnection leader = masterOptions.connect()) {
            run(leader, System.out, Instant.now());
            System.out.flush();
            return ExitCodes.OK;
        }
    }

    /** Checks the arguments before connecting; throws IllegalArgumentException (exit 2) for bad ones. */
    void validate() {}

    /** Does the command's work; {@code now} is what relative times count from. */
    abstract void run(LeaderConnection leader, PrintStream out, Instant now);
}
