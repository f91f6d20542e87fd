package io.mezzo.agent.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SeekableByteChannel;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The task sandboxes under {@code <work_dir>/agents}, as the files API shows them: paths are
 * relative to that root ({@code <agent>/frameworks/<framework>/tasks/<task>/runs/<container>/stdout}).
 *
 * <pre>
 *  request path --check: relative, no "..", no NUL--> root.resolve(path).normalize()
 *     --must stay under root--> toRealPath() (follows links)
 *     --must stay under the real root, and under the real sandbox (runs/&lt;container&gt;) when the path
 *       is inside one--> served
 * </pre>
 *
 * <p>Invariant: nothing outside the sandboxes is ever listed, read or downloaded. A symbolic link a
 * task plants in its sandbox may point within that sandbox; one that leads anywhere else (another
 * sandbox, the agent's {@code meta}, {@code /etc}) is refused.
 *
 * <p>Owner: the agent's HTTP endpoints. Thread: any; holds no state beyond the root.
 */
public final class SandboxFiles {

    /** Segments from the root to a sandbox: agent, "frameworks", framework, "tasks", task, "runs", container. */
    private static final int SANDBOX_DEPTH = 7;

    private final Path root;

    /** The sandboxes of the agent working in {@code workDir}. */
    public SandboxFiles(Path workDir) {
        this.root = workDir.resolve("agents").toAbsolutePath().normalize();
    }

    /** Why a request cannot be served, with the HTTP status that says so. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        private final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }

        /** 400 (malformed path), 403 (outside the sandboxes) or 404 (no such file). */
        public int status() {
            return status;
        }
    }

    /** One entry of a directory listing. */
    public record Entry(String name, boolean directory, long size, long modifiedMillis) {}

    /** A piece of a file: {@code data} from {@code offset}, and the file's size when read. */
    public record Chunk(long offset, byte[] data, long size) {}

    /**
     * The file or directory at {@code relative} (under the root), once checked to be inside the
     * sandboxes.
     */
    public Path resolve(String relative) throws Refused {
        String path = relative == null ? "" : relative;
        if (path.indexOf('\0') >= 0) {
            throw new Refused(400, "the path contains a NUL character");
        }
        if (path.startsWith("/")) {
            throw new Refused(400, "the path must be relative to the sandboxes, got an absolute path");
        }
        List<String> segments = new ArrayList<>();
        for (String s : path.split("/")) {
            if (s.equals("..")) {
                throw new Refused(400, "the path must not contain '..'");
            }
            if (!s.isEmpty() && !s.equals(".")) {
                segments.add(s);
            }
        }
        Path resolved = root;
        for (String s : segments) {
            resolved = resolved.resolve(s);
        }
        resolved = resolved.normalize();
        if (!resolved.startsWith(root)) {
            throw new Refused(403, "the path leads outside the sandboxes");
        }
        Path real;
        Path realRoot;
        try {
            realRoot = root.toRealPath();
            real = resolved.toRealPath();
        } catch (NoSuchFileException e) {
            throw new Refused(404, "no such file: " + String.join("/", segments));
        } catch (IOException e) {
            throw new Refused(404, "cannot read " + String.join("/", segments) + ": " + e.getMessage());
        }
        if (!real.startsWith(realRoot)) {
            throw new Refused(403, "the path leads outside the sandboxes (through a symbolic link)");
        }
        if (segments.size() >= SANDBOX_DEPTH) {
            Path sandbox = root;
            for (String s : segments.subList(0, SANDBOX_DEPTH)) {
                sandbox = sandbox.resolve(s);
            }
            try {
                if (Files.isSymbolicLink(sandbox) || !real.startsWith(sandbox.toRealPath())) {
                    throw new Refused(403, "the path leads outside its sandbox (through a symbolic link)");
                }
            } catch (IOException e) {
                throw new Refused(404, "cannot read the sandbox: " + e.getMessage());
            }
        } else if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)
                || !realRoot.relativize(real).equals(root.relativize(resolved))) {
            // Above the sandboxes there are only the agent's own directories: no links, no files.
            throw new Refused(403, "only directories are served above the sandboxes");
        }
        return real;
    }

    /** The entries of directory {@code relative}, by name. */
    public List<Entry> list(String relative) throws Refused {
        Path dir = resolve(relative);
        if (!Files.isDirectory(dir)) {
            throw new Refused(400, relative + " is not a directory");
        }
        List<Entry> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                out.add(new Entry(p.getFileName().toString(), a.isDirectory(), a.size(), a.lastModifiedTime().toMillis()));
            }
        } catch (IOException e) {
            throw new Refused(404, "cannot list " + relative + ": " + e.getMessage());
        }
        out.sort(Comparator.comparing(Entry::name));
        return out;
    }

    /**
     * Up to {@code length} bytes of file {@code relative} from {@code offset}; a negative offset
     * counts from the end (-N: the last N bytes), as {@code tail} does.
     */
    public Chunk read(String relative, long offset, int length) throws Refused {
        Path file = regularFile(relative);
        try (SeekableByteChannel ch = Files.newByteChannel(file)) {
            long size = ch.size();
            long from = offset < 0 ? Math.max(0, size + offset) : Math.min(offset, size);
            int n = (int) Math.max(0, Math.min(length, size - from));
            ByteBuffer buf = ByteBuffer.allocate(n);
            ch.position(from);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // keep reading until the chunk is full or the file ends
            }
            byte[] data = new byte[buf.position()];
            buf.flip().get(data);
            return new Chunk(from, data, size);
        } catch (IOException e) {
            throw new Refused(404, "cannot read " + relative + ": " + e.getMessage());
        }
    }

    /** The whole file {@code relative}, for a download. The caller closes the stream. */
    public InputStream open(String relative) throws Refused {
        Path file = regularFile(relative);
        try {
            return Files.newInputStream(file);
        } catch (IOException e) {
            throw new Refused(404, "cannot read " + relative + ": " + e.getMessage());
        }
    }

    /** The size of file {@code relative}. */
    public long size(String relative) throws Refused {
        try {
            return Files.size(regularFile(relative));
        } catch (IOException e) {
            throw new Refused(404, "cannot read " + relative + ": " + e.getMessage());
        }
    }

    /**
     * The sandbox of the latest run of task {@code task} (of {@code framework}, when not null), as a
     * path relative to the root; empty when this agent has none.
     */
    public Optional<String> latestRun(String task, String framework) throws Refused {
        for (String id : new String[] {task, framework}) {
            if (id != null && (id.isEmpty() || id.contains("/") || id.equals("..") || id.equals(".") || id.indexOf('\0') >= 0)) {
                throw new Refused(400, "not an id: '" + id + "'");
            }
        }
        List<Path> runs = new ArrayList<>();
        try (DirectoryStream<Path> agents = Files.newDirectoryStream(root)) {
            for (Path agent : agents) {
                Path frameworks = agent.resolve("frameworks");
                if (!Files.isDirectory(frameworks, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try (DirectoryStream<Path> fws = Files.newDirectoryStream(frameworks)) {
                    for (Path fw : fws) {
                        if (framework != null && !fw.getFileName().toString().equals(framework)) {
                            continue;
                        }
                        Path taskRuns = fw.resolve("tasks").resolve(task).resolve("runs");
                        if (Files.isDirectory(taskRuns, LinkOption.NOFOLLOW_LINKS)) {
                            try (DirectoryStream<Path> rs = Files.newDirectoryStream(taskRuns)) {
                                rs.forEach(runs::add);
                            }
                        }
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new Refused(404, "cannot search the sandboxes: " + e.getMessage());
        }
        return runs.stream()
                .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                .max(Comparator.comparingLong(SandboxFiles::modified))
                .map(p -> root.relativize(p).toString());
    }

    private Path regularFile(String relative) throws Refused {
        Path file = resolve(relative);
        if (!Files.isRegularFile(file)) {
            throw new Refused(400, relative + " is not a regular file");
        }
        return file;
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
