package io.mezzo.dist.cli;

import io.mezzo.common.security.Pki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mezzo tls ca} and {@code mezzo tls cert}: a cluster CA and the certificates of masters,
 * agents, frameworks and operators, as {@code nomad tls ca create} / {@code nomad tls cert
 * create}. See docs/security.md for a secure cluster in three commands.
 */
@Command(name = "tls", mixinStandardHelpOptions = true,
        description = "Create a cluster certificate authority and certificates signed by it.",
        subcommands = {TlsCommand.Ca.class, TlsCommand.Cert.class})
final class TlsCommand implements Runnable {

    @Override
    public void run() {
        System.err.println("mezzo tls: give a subcommand: ca or cert (mezzo tls --help)");
    }

    @Command(name = "ca", mixinStandardHelpOptions = true,
            description = "Create the cluster CA: DIR/ca.pem (give it to every process as --tls_ca) and"
                    + " DIR/ca-key.pem (keep it offline; only `mezzo tls cert` needs it).")
    static final class Ca implements Callable<Integer> {
        @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".",
                description = "Where to write the CA. Default: the current directory.")
        Path dir;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "Mezzo cluster CA",
                description = "The CA's common name. Default: ${DEFAULT-VALUE}.")
        String name;

        @Option(names = "--days", paramLabel = "N", defaultValue = "1825",
                description = "Validity in days. Default: ${DEFAULT-VALUE}.")
        int days;

        @Override
        public Integer call() {
            Pki.Issued ca = Pki.createCa(dir, name, Duration.ofDays(days));
            System.out.println("Created the CA " + ca.cert() + " (share it as --tls_ca) and its key " + ca.key()
                    + " (keep it secret)");
            return 0;
        }
    }

    @Command(name = "cert", mixinStandardHelpOptions = true,
            description = "Create NAME.pem and NAME-key.pem signed by the CA in --ca_dir. NAME is the"
                    + " principal the certificate authenticates as (its CN); the certificate is valid for"
                    + " NAME, localhost, 127.0.0.1 and every --san, as a server and as a client.")
    static final class Cert implements Callable<Integer> {
        @Option(names = "--name", paramLabel = "NAME", required = true,
                description = "The principal, e.g. master-1, agent-7, analytics (a framework), ops (an operator).")
        String name;

        @Option(names = "--san", paramLabel = "HOST|IP", split = ",",
                description = "Extra host names or IP addresses the certificate is valid for: every address"
                        + " clients dial to reach this process (masters: their --ip and hostname). Default: none.")
        List<String> sans = new ArrayList<>();

        @Option(names = "--ca_dir", paramLabel = "DIR", defaultValue = ".",
                description = "Where ca.pem and ca-key.pem are. Default: the current directory.")
        Path caDir;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".",
                description = "Where to write the certificate and key. Default: the current directory.")
        Path dir;

        @Option(names = "--days", paramLabel = "N", defaultValue = "365",
                description = "Validity in days. Default: ${DEFAULT-VALUE}.")
        int days;

        @Override
        public Integer call() {
            Pki.Issued cert = Pki.issue(caDir, name, sans, dir, Duration.ofDays(days));
            System.out.println("Created " + cert.cert() + " and " + cert.key() + " for principal '" + name
                    + "': use them as --tls_cert and --tls_key");
            return 0;
        }
    }
}
