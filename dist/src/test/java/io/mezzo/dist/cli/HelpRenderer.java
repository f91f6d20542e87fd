package io.mezzo.dist.cli;

import java.util.Map;
import picocli.CommandLine;

/**
 * Prints the help of every command and subcommand of {@code mezzo}, as {@code mezzo ... --help}
 * does, each after a {@code ==== qualified name} line. Run in a child JVM by {@link HelpTest}, so
 * that whatever picocli writes to stderr (its format warnings) is seen.
 */
final class HelpRenderer {

    private HelpRenderer() {}

    public static void main(String[] args) {
        render(MezzoCommand.commandLine(Map.of()));
        System.out.flush();
    }

    private static void render(CommandLine cli) {
        System.out.println("==== " + cli.getCommandSpec().qualifiedName(" "));
        cli.usage(System.out);
        cli.getSubcommands().values().forEach(HelpRenderer::render);
    }
}
