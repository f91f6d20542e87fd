package io.mezzo.dist.cli;

import io.mezzo.ha.zk.ZkClients;
import io.mezzo.ha.zk.ZkUrl;
import io.mezzo.master.Master;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo registry backup|restore}: copies the masters' hard state (the registry in ZooKeeper)
 * to a file and back (docs/operations.md, "Registry backup and restore"). Runs on the main thread
 * with its own short-lived ZooKeeper client; see {@link RegistryBackup} for the file.
 */
@Command(name = "registry", mixinStandardHelpOptions = true,
        description = "Back up and restore the masters' registry (their hard state in ZooKeeper).",
        subcommands = {RegistryCommand.Backup.class, RegistryCommand.Restore.class})
final class RegistryCommand implements Runnable {

    /** How long to wait for ZooKeeper. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static CuratorFramework connect(String zk, TlsOptions tls) throws InterruptedException {
        ZkUrl url = ZkUrl.parse(zk);
        CuratorFramework client = ZkClients.start(url, Duration.ofSeconds(10), tls.zkSettings());
        if (!client.blockUntilConnected((int) CONNECT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            client.close();
            throw new IllegalStateException("cannot reach ZooKeeper at " + url.connectString() + " within "
                    + CONNECT_TIMEOUT.toSeconds() + " s");
        }
        return client;
    }

    /** {@code mezzo registry backup --zk URL FILE}. */
    @Command(name = "backup", mixinStandardHelpOptions = true,
            description = {"Writes every record of the registry under the --zk path, with the epoch, to FILE (JSON)."
                    + " Safe while masters run; records written during the backup may or may not be in it.",
                    "Exit codes: 0 written; 1 ZooKeeper unreachable or FILE not writable; 2 bad usage."})
    static final class Backup implements Callable<Integer> {

        @Option(names = "--zk", paramLabel = "URL", required = true,
                description = "The masters' --zk: zk://[user:password@]host1:2181,host2:2181/mezzo (the registry is"
                        + " readable only with the masters' credentials when they use some).")
        String zk;

        @Parameters(index = "0", paramLabel = "FILE", description = "Where to write the backup ('-' for stdout).")
        String file;

        @Mixin
        TlsOptions tls;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            PrintWriter out = spec.commandLine().getOut();
            RegistryBackup.Backup backup;
            try (CuratorFramework client = connect(zk, tls)) {
                backup = RegistryBackup.read(client, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                        Master.VERSION, ZkUrl.parse(zk).toString());
            } catch (IllegalStateException | org.apache.zookeeper.KeeperException e) {
                err.println("mezzo registry backup: " + e.getMessage());
                return 1;
            }
            String json = RegistryBackup.toJson(backup);
            if (file.equals("-")) {
                out.print(json);
                out.flush();
                return 0;
            }
            Path target = Path.of(file).toAbsolutePath();
            try {
                Path tmp = Files.createTempFile(target.getParent(), ".mezzo-backup", ".tmp");
                Files.writeString(tmp, json, StandardCharsets.UTF_8);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.io.IOException e) {
                err.println("mezzo registry backup: cannot write " + target + ": " + e);
                return 1;
            }
            out.println("Backed up " + backup.nodes().size() + " registry nodes " + backup.counts() + " at epoch "
                    + backup.epoch() + " to " + target);
            return 0;
        }
    }

    /** {@code mezzo registry restore --zk URL [--force] FILE}. */
    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Writes a backup back into the registry under the --zk path, and raises its epoch to the"
                    + " backup's. Every master must be stopped; the registry must be empty unless --force.",
                    "Exit codes: 0 restored; 1 refused (a master runs, the registry is not empty, the file is not a"
                    + " backup of this format version) or ZooKeeper unreachable; 2 bad usage."})
    static final class Restore implements Callable<Integer> {

        @Option(names = "--zk", paramLabel = "URL", required = true,
                description = "The masters' --zk: zk://[user:password@]host1:2181,host2:2181/mezzo (with the"
                        + " masters' credentials when they use some: the restored records belong to them).")
        String zk;

        @Option(names = "--force", defaultValue = "false",
                description = "Delete what the registry holds before restoring. Default: refuse a non-empty registry.")
        boolean force;

        @Parameters(index = "0", paramLabel = "FILE", description = "A file written by mezzo registry backup.")
        Path file;

        @Mixin
        TlsOptions tls;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            RegistryBackup.Backup backup;
            try {
                backup = RegistryBackup.fromJson(Files.readString(file, StandardCharsets.UTF_8));
            } catch (java.io.IOException | IllegalArgumentException e) {
                err.println("mezzo registry restore: " + file + ": " + e.getMessage());
                return 1;
            }
            try (CuratorFramework client = connect(zk, tls)) {
                String running = RegistryBackup.runningMaster(client);
                if (running != null) {
                    err.println("mezzo registry restore: refused: " + running + "; stop every master first");
                    return 1;
                }
                int existing = RegistryBackup.existingNodes(client);
                if (existing > 0 && !force) {
                    err.println("mezzo registry restore: refused: the registry under " + ZkUrl.parse(zk) + " holds " + existing
                            + " nodes; restore into an empty path, or add --force to delete them first");
                    return 1;
                }
                long epoch = RegistryBackup.restore(client, backup, force);
                spec.commandLine().getOut().println("Restored " + backup.nodes().size() + " registry nodes "
                        + backup.counts() + " from " + file + " (taken " + backup.created() + " at epoch "
                        + backup.epoch() + ")" + (existing > 0 ? " after deleting " + existing + " nodes" : "")
                        + "; epoch is now " + epoch + ", the next leader takes " + (epoch + 1));
                return 0;
            } catch (IllegalStateException | org.apache.zookeeper.KeeperException e) {
                err.println("mezzo registry restore: " + e.getMessage());
                return 1;
            }
        }
    }
}
