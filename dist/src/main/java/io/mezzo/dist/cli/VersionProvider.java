package io.mezzo.dist.cli;

import io.mezzo.master.Master;
import picocli.CommandLine;

/** Prints the Mezzo version for {@code --version}. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"mezzo " + Master.VERSION + " (Java " + Runtime.version() + ")"};
    }
}
