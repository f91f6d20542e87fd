package io.mezzo.ha.registry;

/** The registry could not be read or written. */
public class RegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** With a message saying what failed. */
    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }

    /** With a message saying what failed. */
    public RegistryException(String message) {
        super(message);
    }
}
