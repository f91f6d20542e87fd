package io.mezzo.dist.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Takes a flag's default from the environment: {@code --work_dir} from {@code MEZZO_WORK_DIR}.
 * Returning null leaves the flag's documented default in place.
 */
final class EnvDefaults implements CommandLine.IDefaultValueProvider {

    private final Map<String, String> env;

    EnvDefaults(Map<String, String> env) {
        this.env = env;
    }

    /** The variable that sets {@code --flag_name}. */
    static String variable(String longName) {
        return "MEZZO_" + longName.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
        if (arg instanceof CommandLine.Model.OptionSpec option && !option.usageHelp() && !option.versionHelp()) {
            return env.get(variable(option.longestName()));
        }
        return null;
    }
}
