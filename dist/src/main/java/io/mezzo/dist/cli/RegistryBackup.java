package io.mezzo.dist.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.mezzo.ha.zk.ZkPaths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The file of {@code mezzo registry backup} and {@code restore}: every znode under a Mezzo root's
 * {@code /registry} with its data, behind a header (format, version, time, epoch). JSON, so that an
 * operator can read what a backup holds; record data stays the registry's protobuf bytes (base64),
 * so a restore writes back exactly what the masters wrote.
 *
 * <pre>
 * {"format": "mezzo-registry-backup", "version": 1, "created": "2026-12-03T17:20:00Z",
 *  "mezzo": "0.1.0-SNAPSHOT", "zk": "zk://zk1:2181/mezzo", "epoch": 7,
 *  "counts": {"agents": 2, ...}, "nodes": [{"path": "agents", "data": ""}, {"path": "agents/agent-1", "data": "..."}]}
 * </pre>
 *
 * <p>Paths are relative to {@code /registry}, in their znode spelling (keys stay URL-encoded).
 * Reads and writes ZooKeeper on the calling thread (the CLI's main thread); owned by {@link
 * RegistryCommand}.
 */
final class RegistryBackup {

    static final String FORMAT = "mezzo-registry-backup";
    /** Bumped when the file's layout or the meaning of the records in it changes incompatibly. */
    static final int VERSION = 1;

    /** One znode under /registry. */
    record Node(String path, byte[] data) {}

    /** A backup in memory. */
    record Backup(int version, String created, String mezzo, String zk, long epoch, List<Node> nodes) {

        /** Records per collection (the znodes two levels down), for humans. */
        Map<String, Integer> counts() {
            Map<String, Integer> counts = new TreeMap<>();
            for (Node n : nodes) {
                int slash = n.path().indexOf('/');
                if (slash < 0) {
                    counts.putIfAbsent(n.path(), 0);
                } else {
                    counts.merge(n.path().substring(0, slash), 1, Integer::sum);
                }
            }
            return counts;
        }
    }

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    private RegistryBackup() {}

    /** Reads every znode under {@code /registry} and the epoch. */
    static Backup read(CuratorFramework client, String created, String mezzo, String zk) throws Exception {
        List<Node> nodes = new ArrayList<>();
        if (client.checkExists().forPath(ZkPaths.REGISTRY) != null) {
            walk(client, "", nodes);
        }
        return new Backup(VERSION, created, mezzo, zk, epoch(client), nodes);
    }

    private static void walk(CuratorFramework client, String relative, List<Node> out) throws Exception {
        String path = relative.isEmpty() ? ZkPaths.REGISTRY : ZkPaths.REGISTRY + "/" + relative;
        List<String> children;
        try {
            children = new ArrayList<>(client.getChildren().forPath(path));
        } catch (KeeperException.NoNodeException e) {
            return; // deleted while we read: not in the backup
        }
        children.sort(Comparator.naturalOrder());
        for (String child : children) {
            String rel = relative.isEmpty() ? child : relative + "/" + child;
            byte[] data;
            try {
                data = client.getData().forPath(ZkPaths.REGISTRY + "/" + rel);
            } catch (KeeperException.NoNodeException e) {
                continue;
            }
            out.add(new Node(rel, data == null ? new byte[0] : data));
            walk(client, rel, out);
        }
    }

    /** The epoch in {@code /epoch}, 0 when there is none. */
    static long epoch(CuratorFramework client) throws Exception {
        try {
            return Long.parseLong(new String(client.getData().forPath(ZkPaths.EPOCH), StandardCharsets.UTF_8).trim());
        } catch (KeeperException.NoNodeException e) {
            return 0;
        }
    }

    /** Null when no master runs on this root, else who does (an elected leader or election participants). */
    static String runningMaster(CuratorFramework client) throws Exception {
        if (client.checkExists().forPath(ZkPaths.LEADER) != null) {
            return "a leader is registered at " + ZkPaths.LEADER;
        }
        if (client.checkExists().forPath(ZkPaths.ELECTION) != null) {
            int n = client.getChildren().forPath(ZkPaths.ELECTION).size();
            if (n > 0) {
                return n + " master(s) take part in the election under " + ZkPaths.ELECTION;
            }
        }
        return null;
    }

    /** How many znodes are under {@code /registry} now. */
    static int existingNodes(CuratorFramework client) throws Exception {
        if (client.checkExists().forPath(ZkPaths.REGISTRY) == null) {
            return 0;
        }
        List<Node> nodes = new ArrayList<>();
        walk(client, "", nodes);
        return nodes.size();
    }

    /**
     * Writes {@code backup} under an empty {@code /registry} (deleting what is there first when
     * {@code clear}), then raises {@code /epoch} to at least the backup's, so that the next leader's
     * epoch is above every epoch agents and schedulers have seen.
     */
    static long restore(CuratorFramework client, Backup backup, boolean clear) throws Exception {
        if (clear && client.checkExists().forPath(ZkPaths.REGISTRY) != null) {
            client.delete().deletingChildrenIfNeeded().forPath(ZkPaths.REGISTRY);
        }
        if (client.checkExists().forPath(ZkPaths.REGISTRY) == null) {
            client.create().creatingParentsIfNeeded().forPath(ZkPaths.REGISTRY, new byte[0]);
        }
        // Parents before children: a path sorts after its parent when compared by depth first.
        List<Node> ordered = new ArrayList<>(backup.nodes());
        ordered.sort(Comparator.comparingInt((Node n) -> n.path().split("/").length).thenComparing(Node::path));
        for (Node n : ordered) {
            client.create().forPath(ZkPaths.REGISTRY + "/" + n.path(), n.data());
        }
        Stat stat = client.checkExists().forPath(ZkPaths.EPOCH);
        long current = stat == null ? 0 : epoch(client);
        long next = Math.max(current, backup.epoch());
        byte[] value = Long.toString(next).getBytes(StandardCharsets.UTF_8);
        if (stat == null) {
            client.create().creatingParentsIfNeeded().forPath(ZkPaths.EPOCH, value);
        } else if (next != current) {
            client.setData().withVersion(stat.getVersion()).forPath(ZkPaths.EPOCH, value);
        }
        return next;
    }

    static String toJson(Backup b) {
        JsonObject root = new JsonObject();
        root.addProperty("format", FORMAT);
        root.addProperty("version", b.version());
        root.addProperty("created", b.created());
        root.addProperty("mezzo", b.mezzo());
        root.addProperty("zk", b.zk());
        root.addProperty("epoch", b.epoch());
        JsonObject counts = new JsonObject();
        b.counts().forEach(counts::addProperty);
        root.add("counts", counts);
        JsonArray nodes = new JsonArray();
        Base64.Encoder enc = Base64.getEncoder();
        for (Node n : b.nodes()) {
            JsonObject o = new JsonObject();
            o.addProperty("path", n.path());
            o.addProperty("data", enc.encodeToString(n.data()));
            nodes.add(o);
        }
        root.add("nodes", nodes);
        return GSON.toJson(root) + "\n";
    }

    /**
     * Parses a backup file.
     *
     * @throws IllegalArgumentException naming what is wrong: not a backup, another format version,
     *     a malformed node
     */
    static Backup fromJson(String json) {
        JsonObject root;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("not a Mezzo registry backup (no JSON object)");
            }
            root = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("not a Mezzo registry backup: " + e.getMessage(), e);
        }
        if (!root.has("format") || !FORMAT.equals(root.get("format").getAsString())) {
            throw new IllegalArgumentException("not a Mezzo registry backup (format is not " + FORMAT + ")");
        }
        int version = root.has("version") ? root.get("version").getAsInt() : -1;
        if (version != VERSION) {
            throw new IllegalArgumentException("the backup has format version " + version + "; this mezzo reads version "
                    + VERSION + " only (restore it with the mezzo release that wrote it, " + str(root, "mezzo") + ")");
        }
        List<Node> nodes = new ArrayList<>();
        Base64.Decoder dec = Base64.getDecoder();
        for (JsonElement e : root.getAsJsonArray("nodes")) {
            JsonObject o = e.getAsJsonObject();
            String path = o.get("path").getAsString();
            if (path.isEmpty() || path.startsWith("/") || path.endsWith("/") || path.contains("//")
                    || List.of(path.split("/")).stream().anyMatch(s -> s.equals(".") || s.equals(".."))) {
                throw new IllegalArgumentException("the backup has a malformed node path '" + path + "'");
            }
            nodes.add(new Node(path, dec.decode(o.get("data").getAsString())));
        }
        return new Backup(version, str(root, "created"), str(root, "mezzo"), str(root, "zk"),
                root.get("epoch").getAsLong(), nodes);
    }

    private static String str(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : "";
    }
}
