package io.mezzo.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code mvn package} ships for bare metal (issue 11): the systemd units and example
 * environment files in the distribution, and the .deb with its layout. Runs after {@code package}
 * on dist/target. Checks needing dpkg-deb or systemd-analyze skip, with a notice, where they are
 * missing.
 */
@Timeout(120)
class PackagingIT {

    @TempDir
    Path work;

    private static final Path TARGET = Path.of(System.getProperty("mezzo.target", "target"));

    private record Run(int code, String out) {}

    private static Run run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s ends", List.of(command)).isTrue();
            return new Run(p.exitValue(), out);
        } finally {
            p.destroyForcibly();
        }
    }

    private static boolean onPath(String program) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
    }

    @Test
    void theDistributionShipsTheUnitsAsDocsAgentMdNeedsThem() throws Exception {
        Path systemd = TARGET.resolve("mezzo/systemd");
        String agent = Files.readString(systemd.resolve("mezzo-agent.service"));
        String master = Files.readString(systemd.resolve("mezzo-master.service"));
        // Tasks survive an agent restart: systemd stops only the agent and leaves its cgroups alone.
        assertThat(agent).contains("\nKillMode=process\n", "\nDelegate=yes\n", "\nUser=root\n",
                "\nRestart=always\n", "\nEnvironmentFile=/etc/mezzo/agent.env\n", "\nLimitNOFILE=");
        assertThat(master).contains("\nUser=mezzo\n", "\nRestart=always\n", "\nEnvironmentFile=/etc/mezzo/master.env\n",
                "\nLimitNOFILE=").doesNotContain("KillMode=process");
        try (Stream<Path> files = Files.list(systemd)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                    "agent.env.example", "master.env.example", "mezzo-agent.service", "mezzo-master.service");
        }
        // Every setting in the example files names a real flag (MEZZO_<FLAG>) or the launcher's MEZZO_JAVA_OPTS.
        for (String daemon : List.of("master", "agent")) {
            String help = run(TARGET, TARGET.resolve("mezzo/bin/mezzo").toAbsolutePath().toString(), daemon, "--help").out;
            for (String line : Files.readAllLines(systemd.resolve(daemon + ".env.example"))) {
                String setting = line.replaceFirst("^#", "");
                if (!setting.startsWith("MEZZO_") || setting.startsWith("MEZZO_JAVA_OPTS=")) {
                    continue;
                }
                String flag = "--" + setting.substring("MEZZO_".length(), setting.indexOf('=')).toLowerCase();
                assertThat(help).as("%s.env.example: %s", daemon, line).contains(flag);
            }
        }
    }

    @Test
    void theUnitsPassSystemdAnalyzeVerify() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze is not installed: skipping the unit check");
        // Point the units at files that exist here; the rest is what ships.
        Path env = Files.createDirectories(work.resolve("etc"));
        List<String> command = new ArrayList<>(List.of("systemd-analyze", "verify"));
        for (String daemon : List.of("master", "agent")) {
            Files.writeString(env.resolve(daemon + ".env"), "");
            String unit = Files.readString(TARGET.resolve("mezzo/systemd/mezzo-" + daemon + ".service"))
                    .replace("/etc/mezzo/", env + "/").replace("/opt/mezzo/bin/mezzo", "/bin/true");
            Path file = work.resolve("mezzo-" + daemon + ".service");
            Files.writeString(file, unit);
            command.add(file.toString());
        }
        Run verify = run(work, command.toArray(String[]::new));
        assertThat(verify.code).as(verify.out).isZero();
        assertThat(verify.out).doesNotContain("mezzo-master.service:", "mezzo-agent.service:");
    }

    @Test
    void theDebHasTheLayoutTheInstallGuideDescribes() throws Exception {
        assumeTrue(onPath("dpkg-deb"), "dpkg-deb is not installed: skipping the .deb check");
        Path deb;
        try (Stream<Path> files = Files.list(TARGET)) {
            deb = files.filter(p -> p.getFileName().toString().matches("mezzo_.*_all\\.deb")).findFirst().orElse(null);
        }
        assertThat(deb).as("the .deb of mvn package in %s", TARGET).isNotNull();
        Run info = run(work, "dpkg-deb", "--info", deb.toAbsolutePath().toString());
        assertThat(info.code).as(info.out).isZero();
        assertThat(info.out).contains("Package: mezzo", "Architecture: all", "postinst", "prerm", "postrm");
        Run conffiles = run(work, "dpkg-deb", "--field", deb.toAbsolutePath().toString(), "Package");
        assertThat(conffiles.out.trim()).isEqualTo("mezzo");
        Run contents = run(work, "dpkg-deb", "--contents", deb.toAbsolutePath().toString());
        assertThat(contents.code).as(contents.out).isZero();
        assertThat(contents.out).contains("./opt/mezzo/bin/mezzo", "./opt/mezzo/conf/logback.xml",
                "./opt/mezzo/lib/mezzo-dist-", "./lib/systemd/system/mezzo-master.service",
                "./lib/systemd/system/mezzo-agent.service", "./etc/mezzo/master.env", "./etc/mezzo/agent.env",
                "./usr/bin/mezzo -> /opt/mezzo/bin/mezzo");
        // The CDS archive is bound to target/mezzo's path: useless in /opt/mezzo, so not shipped.
        assertThat(contents.out).doesNotContain("mezzo.jsa");
        assertThat(contents.out.lines().filter(l -> l.endsWith("./opt/mezzo/bin/mezzo")).findFirst().orElseThrow())
                .startsWith("-rwxr-xr-x root/root");

        Path root = work.resolve("root");
        Run extract = run(work, "dpkg-deb", "--control", deb.toAbsolutePath().toString(), work.resolve("DEBIAN").toString());
        assertThat(extract.code).as(extract.out).isZero();
        assertThat(Files.readString(work.resolve("DEBIAN/conffiles")).lines().sorted().toList())
                .containsExactly("/etc/mezzo/agent.env", "/etc/mezzo/master.env");
        assertThat(Files.readString(work.resolve("DEBIAN/postinst"))).contains("adduser --system", " mezzo");
        extract = run(work, "dpkg-deb", "-x", deb.toAbsolutePath().toString(), root.toString());
        assertThat(extract.code).as(extract.out).isZero();
        Run version = run(work, root.resolve("opt/mezzo/bin/mezzo").toString(), "--version");
        assertThat(version.code).as(version.out).isZero();
        assertThat(version.out).startsWith("mezzo ");
    }
}
