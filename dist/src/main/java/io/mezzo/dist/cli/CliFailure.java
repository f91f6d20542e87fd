package io.mezzo.dist.cli;

/**
 * Ends an operator command with a message on stderr and an exit code of {@link ExitCodes}: the
 * master refused or the object does not exist ({@link ExitCodes#REFUSED}), or no leading master
 * could be reached ({@link ExitCodes#NO_LEADER}). Thrown on the command's thread; {@link
 * MezzoCommand} prints it.
 */
final class CliFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CliFailure(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
