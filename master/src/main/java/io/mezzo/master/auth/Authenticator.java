package io.mezzo.master.auth;

import io.mezzo.common.security.BasicAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.common.security.Principals;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Turns what a caller presented into a principal, the same way for gRPC and HTTP:
 *
 * <ol>
 *   <li>an {@code authorization: Basic} header must name a principal of {@code --credentials} with
 *       its secret; a wrong one is refused, never treated as anonymous;
 *   <li>otherwise a client certificate verified by the TLS handshake stands for the principal of
 *       its common name;
 *   <li>otherwise the caller is anonymous (null), and the edge refuses it UNAUTHENTICATED when
 *       authentication is required there.
 * </ol>
 *
 * <p>Immutable; any thread. Never logs or returns a secret.
 */
public final class Authenticator {

    /** The outcome: a principal (null for anonymous), or the reason the caller is refused. */
    public record Result(String principal, String error) {
        static Result anonymous() {
            return new Result(null, null);
        }
    }

    private final CredentialsFile credentials;

    /** @param credentials the principals and secrets callers may present; null for none */
    public Authenticator(CredentialsFile credentials) {
        this.credentials = credentials;
    }

    /** Authenticates a caller from its {@code authorization} header (or null) and TLS session (or null). */
    public Result authenticate(String authorization, SSLSession tls) {
        if (authorization != null) {
            Credential c = BasicAuth.parse(authorization);
            if (c == null) {
                return new Result(null, "the authorization header is not 'Basic base64(principal:secret)'");
            }
            if (credentials == null || !credentials.verify(c.principal(), c.secret())) {
                return new Result(null, "invalid credentials for principal '" + c.principal() + "'");
            }
            return new Result(c.principal(), null);
        }
        String fromCertificate = certificatePrincipal(tls);
        return fromCertificate == null ? Result.anonymous() : new Result(fromCertificate, null);
    }

    /** The principal of the verified client certificate of {@code tls}, or null. */
    static String certificatePrincipal(SSLSession tls) {
        if (tls == null) {
            return null;
        }
        try {
            Certificate[] chain = tls.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
                return Principals.of(x509);
            }
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        return null;
    }
}
