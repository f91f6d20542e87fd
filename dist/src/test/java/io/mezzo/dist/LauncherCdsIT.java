package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.testkit.Timeouts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class data sharing archive after the distribution is moved: a JDK 17 archive records the
 * class path's absolute paths, so the one made at {@code mvn package} cannot serve a copy
 * elsewhere. {@code bin/mezzo} must skip it without a word, and the next {@code mezzo run} must
 * leave a matching one behind that the JVM accepts ({@code -Xshare:on} fails hard otherwise).
 * Runs after {@code package}, on a copy of target/mezzo.
 */
@Timeout(180)
class LauncherCdsIT {

    @TempDir
    Path moved;

    private static Path home() {
        Path home = Path.of(System.getProperty("mezzo.home", "target/mezzo"));
        assertThat(home.resolve("bin/mezzo")).as("the unpacked distribution (mvn package)").isExecutable();
        return home;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private record Result(int exit, String output) {}

    private Result mezzo(Path home, String javaOpts, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/mezzo").toString());
        command.addAll(List.of(args));
        Path log = Files.createTempFile(moved, "out", ".log");
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        b.environment().put("JAVA_HOME", System.getProperty("java.home"));
        b.environment().put("MEZZO_JAVA_OPTS", javaOpts);
        b.environment().remove("MEZZO_HOME");
        Process p = b.start();
        try {
            assertThat(p.waitFor(Timeouts.CLUSTER.toSeconds(), TimeUnit.SECONDS)).as("bin/mezzo exits").isTrue();
        } finally {
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    @Test
    void aMovedDistributionSkipsTheArchiveSilentlyAndItsNextRunMakesAMatchingOne() throws Exception {
        Path home = moved.resolve("mezzo");
        copyTree(home(), home);
        Path id = home.resolve("lib/mezzo.jsa.id");
        if (Files.exists(id)) {
            assertThat(Files.readString(id)).as("the packaged archive names its own directory")
                    .doesNotContain("home=" + home + " ");
        }

        // A client command in the moved copy: no warning about the archive that does not fit.
        Result version = mezzo(home, "-Xmx128m", "--version");
        assertThat(version.exit()).isZero();
        assertThat(version.output()).startsWith("mezzo ").doesNotContainIgnoringCase("archive")
                .doesNotContainIgnoringCase("cds").doesNotContainIgnoringCase("warning");

        // The next mezzo run (here one refused at once for its flags) writes an archive for here.
        Result run = mezzo(home, "-Xmx128m", "run", "--cpus", "-1", "--", "true");
        assertThat(run.exit()).as(run.output()).isEqualTo(2);
        assertThat(run.output()).contains("--cpus").doesNotContainIgnoringCase("archive")
                .doesNotContainIgnoringCase("cds").doesNotContainIgnoringCase("warning");
        assertThat(Files.readString(id)).startsWith("home=" + home + " ");
        try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString())).as("no temporary archive left")
                    .noneMatch(n -> n.startsWith(".mezzo.jsa"));
        }

        // The launcher passes it and the JVM maps it: -Xshare:on (the last option wins) refuses to
        // start without a usable archive, and the cds log (turned back on) names it.
        Result shared = mezzo(home, "-Xshare:on -Xlog:cds=info", "--version");
        assertThat(shared.exit()).as(shared.output()).isZero();
        assertThat(shared.output()).contains("Opened archive " + home.resolve("lib/mezzo.jsa"))
                .contains("mezzo 0.");
    }
}
