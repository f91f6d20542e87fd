package io.mezzo.agent.containerizer;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Measures disk use: a sandbox's bytes (the apparent size of its files, so a sparse file counts in
 * full), and how full the file system holding the work directory is.
 *
 * <p>Stateless; any thread, but it walks directory trees: the agent calls it on a worker. Public only so
 * that the agent's other packages can use it.
 */
public final class DiskUsage {

    private DiskUsage() {}

    /** Bytes of the regular files under {@code dir}; files that vanish meanwhile are skipped. */
    public static long of(Path dir) {
        long[] total = {0};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile()) {
                        total[0] += attrs.size();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // A sandbox that is gone uses nothing.
        }
        return total[0];
    }

    /** The fraction (0 to 1) of the file system holding {@code dir} in use; 0 if it cannot be read. */
    public static double fileSystemUsage(Path dir) {
        try {
            FileStore store = Files.getFileStore(dir);
            long total = store.getTotalSpace();
            return total <= 0 ? 0 : 1.0 - (double) store.getUsableSpace() / total;
        } catch (IOException e) {
            return 0;
        }
    }
}
