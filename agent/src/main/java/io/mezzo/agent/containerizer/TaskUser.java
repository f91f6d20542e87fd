package io.mezzo.agent.containerizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A user a task runs as: looked up with {@code getent passwd} (so LDAP and other NSS users work), or in
 * {@code /etc/passwd} when {@code getent} is missing.
 *
 * <p>Immutable; any thread ({@link #lookup} blocks on a child process: call it on a worker). Public only
 * so that the agent's other packages can use it.
 *
 * @param name the user name
 * @param uid the user id
 * @param gid the primary group id
 */
public record TaskUser(String name, int uid, int gid) {

    /** The launcher's USER argument: {@code UID:GID}. */
    public String spec() {
        return uid + ":" + gid;
    }

    /**
     * Finds {@code name}.
     *
     * @throws UserPrincipalNotFoundException if there is no such user
     * @throws IOException if the user database cannot be read
     */
    public static TaskUser lookup(String name) throws IOException {
        if (name.isEmpty() || name.indexOf(':') >= 0 || name.indexOf('\n') >= 0 || name.indexOf('\0') >= 0) {
            throw new UserPrincipalNotFoundException(name);
        }
        Optional<String> line;
        Optional<Path> getent = Containerizer.which("getent", TaskEnvironment.DEFAULT_PATH, Path.of("/"));
        if (getent.isPresent()) {
            Process p = new ProcessBuilder(getent.get().toString(), "passwd", name)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            byte[] out = p.getInputStream().readAllBytes();
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException("getent passwd " + name + " did not answer within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                throw new IOException("interrupted while looking up user " + name, e);
            }
            line = p.exitValue() == 0
                    ? new String(out, StandardCharsets.UTF_8).lines().findFirst()
                    : Optional.empty();
        } else {
            List<String> passwd = Files.readAllLines(Path.of("/etc/passwd"), StandardCharsets.UTF_8);
            line = passwd.stream().filter(l -> l.startsWith(name + ":")).findFirst();
        }
        if (line.isEmpty()) {
            throw new UserPrincipalNotFoundException(name);
        }
        return parse(line.get());
    }

    /** Parses a passwd line "name:x:uid:gid:gecos:home:shell". Package-private for tests. */
    static TaskUser parse(String line) throws IOException {
        String[] f = line.split(":", -1);
        try {
            return new TaskUser(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]));
        } catch (RuntimeException e) {
            throw new IOException("malformed passwd entry '" + line + "'", e);
        }
    }

    /** True when this process runs as root (uid 0), so it may switch users. */
    public static boolean agentIsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Gives {@code path} to this user. */
    public void own(Path path) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** Gives {@code dir} and everything under it to this user. */
    public void ownTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                own(p);
            }
        }
    }
}
