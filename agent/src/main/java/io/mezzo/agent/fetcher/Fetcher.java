package io.mezzo.agent.fetcher;

import io.mezzo.agent.containerizer.Containerizer;
import io.mezzo.agent.containerizer.TaskEnvironment;
import io.mezzo.agent.containerizer.TaskUser;
import io.mezzo.common.clock.Clock;
import io.mezzo.proto.v1.CommandURI;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Fetches a task's {@code CommandInfo.uris} into its sandbox before its command starts, as the Mesos
 * fetcher does: http, https and file URIs; archives (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz, .zip)
 * extracted into the sandbox when asked; the executable bit set when asked; and an optional cache
 * keyed by URI ({@link FetcherCache}). Each step is logged to the sandbox's {@value #LOG_FILE}.
 *
 * <p>Thread-safe; it blocks on the network and on disk, so the agent calls it on a worker, never on its
 * loop. Owner: the agent's task launcher ({@code TaskLauncher}).
 */
public final class Fetcher {

    /** The fetcher's log, in the sandbox. */
    public static final String LOG_FILE = "fetcher.log";

    static final int CONNECT_TIMEOUT_MS = 30_000;
    static final int READ_TIMEOUT_MS = 120_000;
    static final long EXTRACT_TIMEOUT_MINUTES = 30;

    private static final Set<String> SCHEMES = Set.of("http", "https", "file");

    private final FetcherCache cache;
    /** Fetches answered from the cache, fetches that downloaded into it, bytes downloaded (metrics). */
    private final java.util.concurrent.atomic.LongAdder cacheHits = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder cacheMisses = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder bytesFetched = new java.util.concurrent.atomic.LongAdder();
    private final Clock clock;
    private final Optional<Path> tar;
    private final Optional<Path> setpriv;

    /**
     * A fetcher.
     *
     * @param cacheDir the cache's directory (created if missing)
     * @param cacheBytes the cache's size limit; 0 disables the cache
     * @param clock time for the log and the cache's recency
     * @throws IOException if the cache directory cannot be created or read
     */
    public Fetcher(Path cacheDir, long cacheBytes, Clock clock) throws IOException {
        this.cache = cacheBytes > 0 ? new FetcherCache(cacheDir, cacheBytes, clock) : null;
        this.clock = clock;
        this.tar = Containerizer.which("tar", TaskEnvironment.DEFAULT_PATH, Path.of("/"));
        this.setpriv = Containerizer.which("setpriv", TaskEnvironment.DEFAULT_PATH, Path.of("/"));
    }

    /** Fetches answered from the cache so far. Any thread. */
    public long cacheHits() {
        return cacheHits.sum();
    }

    /** Cached fetches that had to download so far. Any thread. */
    public long cacheMisses() {
        return cacheMisses.sum();
    }

    /** Bytes downloaded so far (cache misses and uncached fetches). Any thread. */
    public long bytesFetched() {
        return bytesFetched.sum();
    }

    /**
     * Fetches every URI into {@code sandbox}, in order. Worker thread.
     *
     * @param user the task's user (archives are extracted as this user), or null
     * @throws FetchException naming the first URI that failed and why
     */
    public void fetch(List<CommandURI> uris, Path sandbox, TaskUser user) throws FetchException {
        for (CommandURI uri : uris) {
            try {
                fetchOne(uri, sandbox, user);
            } catch (FetchException e) {
                log(sandbox, e.getMessage());
                throw e;
            }
        }
    }

    private void fetchOne(CommandURI spec, Path sandbox, TaskUser user) throws FetchException {
        String value = spec.getValue();
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new FetchException(value, "malformed URI: " + e.getMessage(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!SCHEMES.contains(scheme)) {
            throw new FetchException(value, scheme.isEmpty()
                    ? "the URI has no scheme (http, https and file are supported)"
                    : "unsupported scheme '" + scheme + "' (http, https and file are supported)", null);
        }
        Path target = target(spec, uri, sandbox);
        // Local files are not cached: a copy read with one task user's rights must never serve another.
        boolean useCache = spec.getCache() && cache != null && !scheme.equals("file");
        log(sandbox, "Fetching " + value + " to " + sandbox.relativize(target) + (useCache ? " (cache)" : ""));
        try {
            Files.createDirectories(target.getParent());
            if (useCache) {
                boolean hit = cache.fetch(value, target, file -> download(value, uri, file, user));
                (hit ? cacheHits : cacheMisses).increment();
                if (!hit) {
                    bytesFetched.add(Files.size(target));
                }
                log(sandbox, (hit ? "Copied " : "Downloaded into the cache and copied ") + Files.size(target)
                        + " bytes");
            } else {
                Path temp = target.resolveSibling("." + target.getFileName() + ".fetching");
                // Never through a link: whatever stands at the temporary name goes (the link itself).
                Files.deleteIfExists(temp);
                try {
                    download(value, uri, temp, user);
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(temp);
                }
                bytesFetched.add(Files.size(target));
                log(sandbox, "Downloaded " + Files.size(target) + " bytes");
            }
        } catch (IOException e) {
            throw new FetchException(value, describe(e), e);
        }
        if (spec.getExtract() && isArchive(target)) {
            extract(value, target, sandbox, user);
            log(sandbox, "Extracted " + target.getFileName() + " into the sandbox");
        } else if (spec.getExecutable()) {
            try {
                if (Files.isSymbolicLink(target)) {
                    throw new FetchException(value, "cannot make it executable: " + target.getFileName()
                            + " is a symbolic link", null);
                }
                PosixFileAttributeView view = Files.getFileAttributeView(target, PosixFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS);
                Set<PosixFilePermission> perms = EnumSet.copyOf(view.readAttributes().permissions());
                perms.addAll(EnumSet.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                        PosixFilePermission.OTHERS_EXECUTE));
                view.setPermissions(perms);
            } catch (IOException e) {
                throw new FetchException(value, "cannot make it executable: " + describe(e), e);
            }
        }
    }

    /** The file the URI goes to: output_file, else the URI's last path segment; inside the sandbox. */
    private static Path target(CommandURI spec, URI uri, Path sandbox) throws FetchException {
        String name = spec.getOutputFile();
        if (name.isEmpty()) {
            String path = uri.getRawPath() == null ? "" : uri.getRawPath();
            name = URLDecoder.decode(path.substring(path.lastIndexOf('/') + 1), StandardCharsets.UTF_8);
            if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                throw new FetchException(spec.getValue(), "the URI names no file; set output_file", null);
            }
        }
        Path relative = Path.of(name).normalize();
        if (relative.isAbsolute() || relative.startsWith("..") || relative.toString().isEmpty()
                || name.indexOf('\0') >= 0) {
            throw new FetchException(spec.getValue(), "output file '" + name + "' is not inside the sandbox", null);
        }
        return sandbox.resolve(relative);
    }

    /**
     * Downloads {@code uri} into {@code file}, a new file (never written through a link). A file://
     * URI is read with the task user's rights when there is one: a task may fetch only what its user
     * may read, never the agent's (root's) files.
     */
    private void download(String value, URI uri, Path file, TaskUser user) throws IOException, FetchException {
        if (uri.getScheme().equalsIgnoreCase("file")) {
            Path source;
            try {
                source = Path.of(uri);
            } catch (IllegalArgumentException e) {
                throw new FetchException(value, "not a local file URI: " + e.getMessage(), e);
            }
            Files.deleteIfExists(file);
            if (user == null) {
                try (InputStream in = Files.newInputStream(source);
                        OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE)) {
                    in.transferTo(out);
                }
            } else {
                readAsUser(value, source, file, user);
            }
            return;
        }
        HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
        connection.setConnectTimeout(CONNECT_TIMEOUT_MS);
        connection.setReadTimeout(READ_TIMEOUT_MS);
        connection.setInstanceFollowRedirects(true);
        try {
            int code = connection.getResponseCode();
            if (code / 100 != 2) {
                throw new FetchException(value, "HTTP " + code
                        + (connection.getResponseMessage() == null ? "" : " " + connection.getResponseMessage()), null);
            }
            Files.deleteIfExists(file);
            try (InputStream in = connection.getInputStream();
                    OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                in.transferTo(out);
            }
        } finally {
            connection.disconnect();
        }
    }

    /**
     * Copies {@code source} into the new file {@code file}, reading it as {@code user} ({@code
     * setpriv ... cat}): a file the user may not read fails the fetch. Without setpriv the agent
     * cannot drop its rights, and refuses rather than read as itself.
     */
    private void readAsUser(String value, Path source, Path file, TaskUser user) throws IOException, FetchException {
        if (setpriv.isEmpty()) {
            throw new FetchException(value, "cannot read it as user " + user.name()
                    + ": setpriv is not installed, and the agent does not fetch files with its own rights", null);
        }
        Path errors = file.resolveSibling(file.getFileName() + ".err");
        Files.deleteIfExists(errors);
        Process p = new ProcessBuilder(setpriv.get().toString(), "--reuid=" + user.uid(), "--regid=" + user.gid(),
                "--init-groups", "--", "/bin/cat", "--", source.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectError(errors.toFile())
                .start();
        try {
            try (InputStream in = p.getInputStream();
                    OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                in.transferTo(out);
            }
            if (!p.waitFor(EXTRACT_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new FetchException(value, "reading it as user " + user.name() + " did not finish", null);
            }
            if (p.exitValue() != 0) {
                String why = Files.readString(errors, StandardCharsets.UTF_8).trim();
                throw new FetchException(value, "user " + user.name() + " cannot read it"
                        + (why.isEmpty() ? "" : ": " + why.lines().findFirst().orElse("")), null);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new FetchException(value, "interrupted while reading it", e);
        } finally {
            Files.deleteIfExists(errors);
        }
    }

    static boolean isArchive(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".zip") || isTar(name);
    }

    private static boolean isTar(String name) {
        for (String suffix : new String[] {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"}) {
            if (name.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    private void extract(String value, Path archive, Path sandbox, TaskUser user) throws FetchException {
        if (archive.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip")) {
            unzip(value, archive, sandbox);
            return;
        }
        if (tar.isEmpty()) {
            throw new FetchException(value, "cannot extract it: tar is not installed on the agent", null);
        }
        List<String> command = new ArrayList<>();
        if (user != null && setpriv.isEmpty()) {
            throw new FetchException(value, "cannot extract it as user " + user.name()
                    + ": setpriv is not installed, and the agent does not extract a task's archive as itself", null);
        }
        if (user != null) {
            // The archive is the task's: extract it with the task's rights, not the agent's.
            command.addAll(List.of(setpriv.get().toString(), "--reuid=" + user.uid(), "--regid=" + user.gid(),
                    "--init-groups", "--"));
            try {
                user.own(sandbox);
                user.own(archive);
            } catch (IOException e) {
                throw new FetchException(value, "cannot give the sandbox to user " + user.name() + ": "
                        + describe(e), e);
            }
        }
        command.addAll(List.of(tar.get().toString(), "--no-same-owner", "-xf", archive.toString(), "-C",
                sandbox.toString()));
        Path errors = sandbox.resolve("." + LOG_FILE + ".tar");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(errors.toFile())
                    .start();
            if (!p.waitFor(EXTRACT_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new FetchException(value, "tar did not finish extracting within " + EXTRACT_TIMEOUT_MINUTES
                        + " minutes", null);
            }
            if (p.exitValue() != 0) {
                String why = Files.readString(errors, StandardCharsets.UTF_8).trim();
                throw new FetchException(value, "cannot extract it: tar exited with status " + p.exitValue()
                        + (why.isEmpty() ? "" : ": " + why.lines().findFirst().orElse("")), null);
            }
        } catch (IOException e) {
            throw new FetchException(value, "cannot extract it: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException(value, "interrupted while extracting", e);
        } finally {
            try {
                Files.deleteIfExists(errors);
            } catch (IOException e) {
                // A leftover file in the sandbox.
            }
        }
    }

    /** Unzips into the sandbox; an entry that would land outside it fails the fetch. */
    private static void unzip(String value, Path archive, Path sandbox) throws FetchException {
        Path root = sandbox.toAbsolutePath().normalize();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(archive))) {
            ZipEntry entry;
            while ((entry = zip.getNextEntry()) != null) {
                Path dest = root.resolve(entry.getName()).normalize();
                if (!dest.startsWith(root) || dest.equals(root)) {
                    throw new FetchException(value, "cannot extract it: entry '" + entry.getName()
                            + "' is outside the sandbox", null);
                }
                // A link planted in the sandbox (by an archive fetched before) must not lead out of it.
                for (Path at = dest.getParent(); at != null && !at.equals(root); at = at.getParent()) {
                    if (Files.isSymbolicLink(at)) {
                        throw new FetchException(value, "cannot extract it: entry '" + entry.getName()
                                + "' lies under the symbolic link " + root.relativize(at), null);
                    }
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(dest);
                } else {
                    Files.createDirectories(dest.getParent());
                    Files.copy(zip, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new FetchException(value, "cannot extract it: " + describe(e), e);
        }
    }

    private void log(Path sandbox, String line) {
        try {
            Files.writeString(sandbox.resolve(LOG_FILE), Instant.ofEpochMilli(clock.millis()) + " " + line + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The sandbox is unwritable: the fetch itself will say so.
        }
    }

    /** One clause for an I/O failure: "connection refused", "no such file /x", ... */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file " + e.getMessage();
        }
        if (e instanceof java.net.ConnectException) {
            return "cannot connect (" + e.getMessage() + ")";
        }
        if (e instanceof java.net.UnknownHostException) {
            return "unknown host " + e.getMessage();
        }
        if (e instanceof java.net.SocketTimeoutException) {
            return "timed out (" + e.getMessage() + ")";
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + message;
    }
}
