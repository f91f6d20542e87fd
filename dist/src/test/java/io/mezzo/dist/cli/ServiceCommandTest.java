package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.services.ServicesConfig;
import io.mezzo.services.ServicesDaemon;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mezzo service ...} against a real services daemon (standalone; no master needed for what
 * the API stores and answers): what it prints, and exit 1 with the API's reason on a refusal.
 */
@Timeout(60)
class ServiceCommandTest {

    @TempDir
    Path dir;

    private ServicesDaemon daemon;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        daemon = new ServicesDaemon(ServicesConfig.builder().master("127.0.0.1:1").httpPort(0).build());
        daemon.start();
        daemon.elected().get(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        CommandLine cli = new CommandLine(new ServiceCommand());
        cli.setDefaultValueProvider(new EnvDefaults(Map.of("MEZZO_SERVICES", "127.0.0.1:" + daemon.httpPort())));
        for (CommandLine sub : cli.getSubcommands().values()) {
            ServiceCommand.Base base = sub.getCommand();
            base.out = new PrintStream(out, true, StandardCharsets.UTF_8);
            base.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        }
        return cli.execute(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void deployPlanListScaleAndRefusals() throws Exception {
        Path web = Files.writeString(dir.resolve("web.json"), "{\"id\":\"web\",\"cmd\":\"sleep 1000\",\"instances\":2,\"mem\":32}");
        assertThat(run("plan", web.toString())).isZero();
        assertThat(out()).isEqualTo("create service web: launch 2 instances of version 1\n");
        assertThat(run("list")).isZero();
        assertThat(out()).doesNotContain("web");

        assertThat(run("deploy", web.toString())).isZero();
        assertThat(out()).contains("create service web: launch 2 instances of version 1 (started)");
        assertThat(run("list")).isZero();
        assertThat(out()).startsWith("ID ").contains("web").contains("ACTIVE");
        assertThat(run("scale", "web", "3")).isZero();
        assertThat(run("show", "web")).isZero();
        assertThat(out()).contains("\"instances\" : 3");

        assertThat(run("promote", "web")).isEqualTo(1);
        assertThat(err()).contains("no deployment waiting in its canary phase").contains("409 conflict");
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"id\":\"web\",\"cmd\":\"x\",\"replicas\":2}");
        assertThat(run("deploy", bad.toString())).isEqualTo(1);
        assertThat(err()).contains("unknown field 'replicas'").contains("400 invalid_definition");
        assertThat(run("show", "nope")).isEqualTo(1);
        assertThat(err()).contains("no service 'nope'");
        assertThat(run("deploy", dir.resolve("missing.json").toString())).isNotZero();
        assertThat(run("delete", "web")).isZero();
    }

    @Test
    void anUnreachableApiSaysWhereItLooked() {
        int port = daemon.httpPort();
        daemon.close();
        assertThat(run("list")).isEqualTo(1);
        assertThat(err()).contains("cannot reach the services API at http://127.0.0.1:" + port)
                .contains("MEZZO_SERVICES");
    }
}
