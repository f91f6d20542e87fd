package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Help is part of the CLI: every command's and subcommand's help renders without a picocli
 * warning or anything on stderr (rendered in a child JVM, as {@code mezzo ... --help} would), every
 * operator command lists the exit codes, and the shell completion covers the operator commands.
 */
@Timeout(120)
class HelpTest {

    @TempDir
    Path work;

    private static List<CommandLine> all(CommandLine cli, List<CommandLine> into) {
        into.add(cli);
        cli.getSubcommands().values().forEach(sub -> all(sub, into));
        return into;
    }

    @Test
    void everyHelpRendersWithoutWarningsOrErrors() throws Exception {
        Path out = work.resolve("out");
        Path err = work.resolve("err");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HelpRenderer.class.getName())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("the help renderer ends").isTrue();

        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("stderr: %s", stderr).isZero();
        assertThat(stderr).as("nothing on stderr while rendering help").isEmpty();
        List<CommandLine> commands = all(MezzoCommand.commandLine(Map.of()), new ArrayList<>());
        assertThat(commands).hasSizeGreaterThan(25);
        for (CommandLine c : commands) {
            assertThat(stdout).contains("==== " + c.getCommandSpec().qualifiedName(" ") + "\nUsage: ");
        }
        assertThat(stdout).doesNotContain("%%").doesNotContain("[picocli WARN]");
    }

    @Test
    void everyOperatorCommandDocumentsItsExitCodes() {
        int operatorCommands = 0;
        for (CommandLine c : all(MezzoCommand.commandLine(Map.of()), new ArrayList<>())) {
            if (c.getCommand() instanceof OperatorCommand) {
                operatorCommands++;
                assertThat(c.getUsageMessage(CommandLine.Help.Ansi.OFF)).as(c.getCommandSpec().qualifiedName(" "))
                        .contains("Exit codes:", "  1  the master refused", "  2  bad usage", "  3  no leading master");
            }
        }
        assertThat(operatorCommands).isGreaterThanOrEqualTo(20);
    }

    @Test
    void theCompletionScriptCoversTheOperatorCommandsAndIsValidBash() throws IOException, InterruptedException {
        String script = AutoComplete.bash("mezzo", MezzoCommand.commandLine(Map.of()));
        assertThat(script).contains("maintenance", "quota", "reactivate", "--max-grace-period", "bashcompinit");
        Path bash = Path.of("/bin/bash");
        if (!Files.isExecutable(bash)) {
            System.out.println("HelpTest: no /bin/bash here; the completion script's syntax is not checked");
            return;
        }
        Path file = Files.writeString(work.resolve("mezzo.bash"), script);
        Process p = new ProcessBuilder(bash.toString(), "-n", file.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();

        // What bash offers after `mezzo agent dr<TAB>` and `mezzo agent drain --ma<TAB>`.
        String session = ". " + file + "\n"
                + "COMP_WORDS=(mezzo agent dr); COMP_CWORD=2; COMP_LINE='mezzo agent dr'; COMP_POINT=14\n"
                + "_complete_mezzo 2>/dev/null; echo \"1:${COMPREPLY[*]}\"\n"
                + "COMP_WORDS=(mezzo agent drain --ma); COMP_CWORD=3; COMP_LINE='mezzo agent drain --ma'; COMP_POINT=22\n"
                + "_complete_mezzo 2>/dev/null; echo \"2:${COMPREPLY[*]}\"\n";
        Process complete = new ProcessBuilder(bash.toString(), "-c", session).redirectErrorStream(true).start();
        assertThat(complete.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String offered = new String(complete.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(offered).contains("1:drain\n", "2:--mark-gone --master --max-grace-period\n");
    }
}
