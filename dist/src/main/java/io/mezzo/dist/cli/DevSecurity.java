package io.mezzo.dist.cli;

import io.mezzo.agent.AgentConfig;
import io.mezzo.common.security.ClientAuth;
import io.mezzo.common.security.Credential;
import io.mezzo.common.security.CredentialsFile;
import io.mezzo.common.security.Pki;
import io.mezzo.common.security.TlsSettings;
import io.mezzo.master.MasterConfig;
import io.mezzo.scheduler.MezzoSchedulerClient;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * What {@code mezzo dev --secure} adds: a throwaway CA and certificates for the master, the agent
 * and an operator ({@code ops}), credentials for the operator and for frameworks ({@code dev}), in
 * {@code <work_dir>/tls}; the master with TLS (client certificates optional), {@code --credentials}
 * and every {@code --authenticate_*} on. The same overlay of flags an operator would set by hand
 * (docs/security.md), not another code path.
 */
final class DevSecurity {

    private final Path dir;
    private final Credential ops;
    private final Credential framework;

    private DevSecurity(Path dir, Credential ops, Credential framework) {
        this.dir = dir;
        this.ops = ops;
        this.framework = framework;
    }

    static DevSecurity create(Path dir) {
        Duration validity = Duration.ofDays(30);
        Pki.createCa(dir, "Mezzo dev CA", validity);
        for (String name : List.of("master", "agent", "ops")) {
            Pki.issue(dir, name, List.of(), dir, validity);
        }
        SecureRandom random = new SecureRandom();
        Credential ops = new Credential("ops", secret(random));
        Credential framework = new Credential("dev", secret(random));
        try {
            write(dir.resolve("credentials"), ops.principal() + " " + ops.secret() + "\n" + framework.principal() + " "
                    + framework.secret() + "\n");
            write(dir.resolve("ops.credential"), ops.principal() + " " + ops.secret() + "\n");
            write(dir.resolve("dev.credential"), framework.principal() + " " + framework.secret() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write credentials to " + dir + ": " + e.getMessage(), e);
        }
        return new DevSecurity(dir, ops, framework);
    }

    private static String secret(SecureRandom random) {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the work directory's own permissions protect it.
        }
    }

    private Path ca() {
        return dir.resolve(Pki.CA_CERT);
    }

    void master(MasterConfig.Builder b) {
        b.tls(new TlsSettings(dir.resolve("master.pem"), dir.resolve("master-key.pem"), ca(), ClientAuth.OPTIONAL))
                .credentials(CredentialsFile.load(dir.resolve("credentials")))
                .authenticateFrameworks(true)
                .authenticateAgents(true)
                .authenticateOperators(true)
                .authenticateHttp(true);
    }

    void agent(AgentConfig.Builder b) {
        b.tls(new TlsSettings(dir.resolve("agent.pem"), dir.resolve("agent-key.pem"), ca(), ClientAuth.NONE));
    }

    void framework(MezzoSchedulerClient.Builder b) {
        b.tls(new TlsSettings(null, null, ca(), ClientAuth.NONE)).credential(framework);
    }

    /** The service scheduler: a framework like {@link #framework}. */
    void services(io.mezzo.services.ServicesConfig.Builder b) {
        b.tls(new TlsSettings(null, null, ca(), ClientAuth.NONE)).credential(framework);
    }

    void printUsage(PrintStream out, String launcher, int port, int httpPort) {
        out.println("  security  TLS and authentication on; CA, certificates and credentials in " + dir);
        out.println("  try       curl --cacert " + ca() + " -u " + ops.principal() + ":" + ops.secret()
                + " https://127.0.0.1:" + httpPort + "/state");
        out.println("            " + launcher + " agents --master 127.0.0.1:" + port + " --tls_ca " + ca()
                + " --tls_cert " + dir.resolve("ops.pem") + " --tls_key " + dir.resolve("ops-key.pem"));
        out.println("            " + launcher + " run --master 127.0.0.1:" + port + " --tls_ca " + ca() + " --credential "
                + dir.resolve("dev.credential") + " -- echo hello");
    }
}
