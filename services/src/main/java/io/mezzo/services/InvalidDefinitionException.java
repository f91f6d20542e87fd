package io.mezzo.services;

/** A service definition was refused: the message says which field and why. */
public final class InvalidDefinitionException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** With the reason, naming the field. */
    public InvalidDefinitionException(String message) {
        super(message);
    }
}
