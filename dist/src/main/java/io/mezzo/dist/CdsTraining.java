package io.mezzo.dist;

import io.mezzo.dist.cli.MezzoCommand;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The training run behind {@code bin/mezzo-cds}: loads, in one JVM, the classes the commands load,
 * so that the JVM (started with {@code -XX:ArchiveClassesAtExit}) writes them to the class data
 * sharing archive {@code lib/mezzo.jsa} when it exits. It prints the help and the version, starts
 * a {@code mezzo dev} cluster on free loopback ports in a temporary work directory (which loads
 * the master's, the agent's and ZooKeeper's classes), and runs {@code mezzo run -- true} against
 * it (the client's path: flags, logging, gRPC channel, subscribe, offer, launch, teardown).
 *
 * <p>Not a user command: {@code bin/mezzo} runs it only with {@code MEZZO_CDS_DUMP=1}. The run is
 * bounded by {@code mezzo run}'s own timeouts; it exits 0 when the task finished, 1 otherwise.
 * Main thread only.
 */
public final class CdsTraining {

    private CdsTraining() {}

    /** Runs the training and exits. */
    public static void main(String[] args) throws IOException {
        PrintStream out = System.out;
        Map<String, String> env = Map.of();
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        MezzoCommand.execute(new String[] {"--help"}, env);
        MezzoCommand.execute(new String[] {"--version"}, env);
        MezzoCommand.execute(new String[] {"run", "--help"}, env);
        System.setOut(out);
        Path work = Files.createTempDirectory("mezzo-cds-");
        int port = freePort();
        int httpPort = freePort();
        Thread dev = new Thread(() -> MezzoCommand.execute(new String[] {"dev", "--port", String.valueOf(port),
            "--http_port", String.valueOf(httpPort), "--agent_port", "0", "--no-demo", "--work_dir", work.toString()},
                env), "mezzo-cds-dev");
        dev.setDaemon(true);
        dev.start();
        int code = MezzoCommand.execute(new String[] {"run", "--master", "127.0.0.1:" + port, "--master_timeout",
            "60secs", "--offer_timeout", "60secs", "--", "true"}, env);
        out.println("mezzo-cds: training run ended with exit code " + code);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(work)));
        System.exit(code == 0 ? 0 : 1);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Best effort: the work directory is a temporary one. */
    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // Left in the temp dir.
        }
    }
}
