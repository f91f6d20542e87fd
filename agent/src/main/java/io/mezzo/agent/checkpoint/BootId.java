package io.mezzo.agent.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host's boot id ({@code /proc/sys/kernel/random/boot_id}), new on every boot: a checkpoint written
 * under another boot id describes processes that no longer exist, whatever their pids say.
 *
 * <p>Stateless; any thread.
 */
public final class BootId {

    private BootId() {}

    /** This boot's id, or "" where the kernel does not provide one. */
    public static String current() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id"), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
