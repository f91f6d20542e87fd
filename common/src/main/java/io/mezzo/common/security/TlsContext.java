package io.mezzo.common.security;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.Closeable;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS material of one daemon or client, loaded from the PEM files of its {@link TlsSettings}
 * and re-read every {@link #RELOAD_PERIOD_SECONDS} seconds, so a renewed certificate (or CA bundle)
 * is used for new connections without a restart; connections already open keep their session.
 * A file that cannot be read at start fails the start; one that becomes unreadable later keeps the
 * last good material (gRPC's {@code AdvancedTls*} managers log it).
 *
 * <p>Hands the same managers to gRPC ({@link #serverCredentials()}, {@link
 * #channelCredentials()}) and to Netty HTTP servers ({@link #keyManager()}, {@link
 * #trustManager()}). Clients verify the server's certificate and its host name (the address dialed
 * must be one of the certificate's subject alternative names).
 *
 * <p>Thread-safe. Owner: the daemon or client that made it; {@link #close()} stops the reloads.
 */
public final class TlsContext implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TlsContext.class);

    /** How often the PEM files are re-read. */
    public static final long RELOAD_PERIOD_SECONDS = 60;

    private final TlsSettings settings;
    private final AdvancedTlsX509KeyManager keyManager;
    private final AdvancedTlsX509TrustManager trustManager;
    private final ScheduledExecutorService reloader;
    private final List<Closeable> reloads = new ArrayList<>();

    private TlsContext(TlsSettings settings) throws IOException, GeneralSecurityException {
        this.settings = settings;
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mezzo-tls-reload");
            t.setDaemon(true);
            return t;
        });
        boolean ok = false;
        try {
            if (settings.cert() != null) {
                keyManager = new AdvancedTlsX509KeyManager();
                reloads.add(keyManager.updateIdentityCredentials(settings.cert().toFile(), settings.key().toFile(),
                        RELOAD_PERIOD_SECONDS, TimeUnit.SECONDS, reloader));
            } else {
                keyManager = null;
            }
            if (settings.ca() != null) {
                trustManager = AdvancedTlsX509TrustManager.newBuilder()
                        .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
                        .build();
                reloads.add(trustManager.updateTrustCredentials(settings.ca().toFile(), RELOAD_PERIOD_SECONDS,
                        TimeUnit.SECONDS, reloader));
            } else {
                trustManager = null;
            }
            ok = true;
        } finally {
            if (!ok) {
                reloader.shutdownNow();
            }
        }
    }

    /**
     * The context of {@code settings}, or null when they configure no TLS.
     *
     * @throws IllegalArgumentException naming the file when a certificate, key or CA cannot be
     *     read or parsed
     */
    public static TlsContext of(TlsSettings settings) {
        if (settings == null || !settings.enabled()) {
            return null;
        }
        try {
            return new TlsContext(settings);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load TLS material (--tls_cert " + settings.cert() + ", --tls_key "
                    + settings.key() + ", --tls_ca " + settings.ca() + "): " + e.getMessage(), e);
        }
    }

    /** The settings this context was made from. */
    public TlsSettings settings() {
        return settings;
    }

    /** Server credentials: TLS with this certificate, asking clients as {@code --tls_client_auth} says. */
    public ServerCredentials serverCredentials() {
        if (keyManager == null) {
            throw new IllegalStateException("a TLS server needs --tls_cert and --tls_key");
        }
        TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keyManager);
        if (trustManager != null) {
            b.trustManager(trustManager);
        }
        b.clientAuth(switch (settings.clientAuth()) {
            case NONE -> TlsServerCredentials.ClientAuth.NONE;
            case OPTIONAL -> TlsServerCredentials.ClientAuth.OPTIONAL;
            case REQUIRE -> TlsServerCredentials.ClientAuth.REQUIRE;
        });
        return b.build();
    }

    /** Channel credentials: verify the server with the CA (or the JVM's defaults); present our certificate if any. */
    public ChannelCredentials channelCredentials() {
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
        if (keyManager != null) {
            b.keyManager(keyManager);
        }
        if (trustManager != null) {
            b.trustManager(trustManager);
        }
        return b.build();
    }

    /** Server credentials of {@code tls}, or plaintext when it is null. */
    public static ServerCredentials serverCredentials(TlsContext tls) {
        return tls == null ? InsecureServerCredentials.create() : tls.serverCredentials();
    }

    /** Channel credentials of {@code tls}, or plaintext when it is null. */
    public static ChannelCredentials channelCredentials(TlsContext tls) {
        return tls == null ? InsecureChannelCredentials.create() : tls.channelCredentials();
    }

    /** The key manager (our certificate), or null; for Netty HTTP servers. */
    public KeyManager keyManager() {
        return keyManager;
    }

    /** The trust manager (the CA), or null; for Netty HTTP servers. */
    public TrustManager trustManager() {
        return trustManager;
    }

    @Override
    public void close() {
        for (Closeable c : reloads) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("Stopping a TLS reload failed: {}", e.toString());
            }
        }
        reloader.shutdownNow();
    }
}
