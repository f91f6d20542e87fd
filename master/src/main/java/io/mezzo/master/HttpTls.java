package io.mezzo.master;

import io.mezzo.common.security.TlsContext;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import javax.net.ssl.SSLException;

/**
 * The Netty (unshaded) server TLS context of the HTTP endpoints, made from the same reloading key
 * and trust managers as the gRPC port, so both serve the same certificate and ask for client
 * certificates the same way. Stateless; any thread.
 */
final class HttpTls {

    private HttpTls() {}

    static SslContext serverContext(TlsContext tls) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forServer(tls.keyManager());
        if (tls.trustManager() != null) {
            b.trustManager(tls.trustManager());
        }
        b.clientAuth(switch (tls.settings().clientAuth()) {
            case NONE -> ClientAuth.NONE;
            case OPTIONAL -> ClientAuth.OPTIONAL;
            case REQUIRE -> ClientAuth.REQUIRE;
        });
        return b.build();
    }
}
