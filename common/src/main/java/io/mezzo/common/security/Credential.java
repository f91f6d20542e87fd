package io.mezzo.common.security;

import java.util.Objects;

/**
 * A principal and its secret. {@link #toString()} never shows the secret: credentials must never
 * reach a log line. Immutable.
 */
public record Credential(String principal, String secret) {

    /** Checks both are present; throws IllegalArgumentException otherwise. */
    public Credential {
        Objects.requireNonNull(principal, "principal");
        Objects.requireNonNull(secret, "secret");
        if (principal.isEmpty()) {
            throw new IllegalArgumentException("a credential's principal is empty");
        }
        if (principal.indexOf(':') >= 0) {
            throw new IllegalArgumentException("principal '" + principal + "' contains ':'");
        }
    }

    @Override
    public String toString() {
        return "Credential[principal=" + principal + ", secret=<redacted>]";
    }
}
