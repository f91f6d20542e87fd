package io.mezzo.agent.fetcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The fetcher's cache: one file per URI ({@code <dir>/<sha-256 of the URI>}), at most {@code maxBytes}
 * in all, least recently used files evicted first. A file larger than the whole cache is not kept.
 *
 * <p>Thread-safe: workers fetch concurrently. Each URI has a lock, held while its file is downloaded or
 * copied out, so that one download serves every task that asked for it meanwhile and eviction never
 * removes a file being copied. The index (sizes, recency) is guarded by this object. Recency survives
 * agent restarts through the files' modification times, read once at start. Owner: the {@link Fetcher}.
 */
final class FetcherCache {

    /** Downloads a URI into a file. */
    @FunctionalInterface
    interface Download {
        void into(Path file) throws IOException, FetchException;
    }

    private record Entry(long size, long lastUse) {}

    private final Path dir;
    private final long maxBytes;
    private final io.mezzo.common.clock.Clock clock;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    // Guarded by this.
    private final Map<String, Entry> index = new HashMap<>();
    private long total;
    private long uses;

    FetcherCache(Path dir, long maxBytes, io.mezzo.common.clock.Clock clock) throws IOException {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.clock = clock;
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".")) {
                    files.add(p);
                } else if (p.getFileName().toString().startsWith(".")) {
                    // A download that an earlier agent did not finish.
                    Files.deleteIfExists(p);
                }
            }
        }
        files.sort(Comparator.comparing(p -> {
            try {
                return Files.getLastModifiedTime(p);
            } catch (IOException e) {
                return java.nio.file.attribute.FileTime.fromMillis(0);
            }
        }));
        synchronized (this) {
            for (Path p : files) {
                long size = Files.size(p);
                index.put(p.getFileName().toString(), new Entry(size, ++uses));
                total += size;
            }
            evict(null);
        }
    }

    /**
     * Copies the cached file of {@code uri} to {@code target}, downloading it into the cache first when
     * it is not there.
     *
     * @return true if it was already cached
     */
    boolean fetch(String uri, Path target, Download download) throws IOException, FetchException {
        String key = key(uri);
        ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock());
        lock.lock();
        try {
            Path cached = dir.resolve(key);
            boolean hit;
            synchronized (this) {
                hit = index.containsKey(key) && Files.isRegularFile(cached);
                if (hit) {
                    index.put(key, new Entry(index.get(key).size(), ++uses));
                }
            }
            if (hit) {
                Files.copy(cached, target, StandardCopyOption.REPLACE_EXISTING);
                touch(cached);
                return true;
            }
            Path temp = dir.resolve("." + key + ".download");
            try {
                download.into(temp);
                long size = Files.size(temp);
                if (size > maxBytes) {
                    // Larger than the whole cache: used once, not kept.
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                    return false;
                }
                Files.move(temp, cached, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
            touch(cached);
            synchronized (this) {
                Entry old = index.put(key, new Entry(Files.size(cached), ++uses));
                total += Files.size(cached) - (old == null ? 0 : old.size());
                evict(key);
            }
            Files.copy(cached, target, StandardCopyOption.REPLACE_EXISTING);
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes held. */
    synchronized long size() {
        return total;
    }

    /** Evicts least recently used files, never {@code keep}, until the cache fits. Holds this. */
    private void evict(String keep) {
        if (total <= maxBytes) {
            return;
        }
        List<Map.Entry<String, Entry>> byAge = new ArrayList<>(index.entrySet());
        byAge.sort(Comparator.comparingLong(e -> e.getValue().lastUse()));
        Map<String, Entry> victims = new LinkedHashMap<>();
        long left = total;
        for (Map.Entry<String, Entry> e : byAge) {
            if (left <= maxBytes) {
                break;
            }
            if (e.getKey().equals(keep)) {
                continue;
            }
            ReentrantLock lock = locks.computeIfAbsent(e.getKey(), k -> new ReentrantLock());
            // A file being downloaded or copied out by another worker stays.
            if (lock.isHeldByCurrentThread() || !lock.tryLock()) {
                continue;
            }
            try {
                Files.deleteIfExists(dir.resolve(e.getKey()));
                victims.put(e.getKey(), e.getValue());
                left -= e.getValue().size();
            } catch (IOException ex) {
                // Left for the next eviction.
            } finally {
                lock.unlock();
            }
        }
        victims.keySet().forEach(index::remove);
        total = left;
    }

    /** Records a use in the file's time (on the agent's clock), so that recency survives a restart. */
    private void touch(Path file) {
        try {
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(clock.millis()));
        } catch (IOException e) {
            // Recency is a hint.
        }
    }

    static String key(String uri) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(uri.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
