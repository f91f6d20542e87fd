package io.mezzo.common.security;

import java.util.Locale;

/**
 * Whether a TLS server asks its clients for a certificate ({@code --tls_client_auth}).
 *
 * <ul>
 *   <li>{@link #NONE}: clients are not asked; they authenticate with credentials, if at all.
 *   <li>{@link #OPTIONAL}: a client may present a certificate signed by the cluster CA; it is then
 *       the client's principal (its common name). One that presents none is let in unauthenticated.
 *   <li>{@link #REQUIRE}: the handshake fails without a certificate signed by the cluster CA.
 * </ul>
 */
public enum ClientAuth {
    NONE,
    OPTIONAL,
    REQUIRE;

    /** Parses {@code none|optional|require} (any case); throws IllegalArgumentException naming the flag. */
    public static ClientAuth parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls_client_auth must be none, optional or require, got '" + text + "'");
        }
    }
}
