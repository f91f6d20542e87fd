package io.mezzo.ha.registry;

/**
 * A write was refused because another master took leadership since this one was elected: the
 * epoch moved on. The writer must step down.
 */
public final class FencedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    /** With what happened. */
    public FencedException(String message) {
        super(message);
    }
}
