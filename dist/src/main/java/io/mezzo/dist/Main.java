package io.mezzo.dist;

import io.mezzo.dist.cli.MezzoCommand;

/** Entry point of {@code bin/mezzo}. */
public final class Main {

    private Main() {}

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(MezzoCommand.execute(args, System.getenv()));
    }
}
