package io.mezzo.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.TreeMap;

/**
 * A service: its versions, the one it runs (target), and whether it is healthy, failed or being
 * deleted. Hard state: versions, target, status, reason, failure count, instance counter. Soft: the
 * time of the next launch allowed by the backoff.
 *
 * <p>Thread: the manager's loop. Owner: {@link ServiceManager}.
 */
final class ServiceState {

    /** Service lifecycle. */
    enum Status {
        /** Kept at its instance count. */
        ACTIVE,
        /** Crash loop: no more launches until a deploy, restart or scale. */
        FAILED,
        /** Deleted: instances are killed, then the service is forgotten. */
        DELETING
    }

    /** Versions kept (for rollback and the API). */
    static final int VERSIONS_KEPT = 10;

    final String id;
    final TreeMap<Integer, ServiceDefinition> versions = new TreeMap<>();
    int target;
    Status status = Status.ACTIVE;
    String reason = "";
    int consecutiveFailures;
    long nextInstance = 1;
    /** Soft: no launch before this clock time (backoff). */
    long nextLaunchAt;

    ServiceState(String id) {
        this.id = id;
    }

    /** A copy with the same hard and soft state (the manager's snapshot before a write). */
    ServiceState copy() {
        ServiceState c = new ServiceState(id);
        c.versions.putAll(versions);
        c.target = target;
        c.status = status;
        c.reason = reason;
        c.consecutiveFailures = consecutiveFailures;
        c.nextInstance = nextInstance;
        c.nextLaunchAt = nextLaunchAt;
        return c;
    }

    ServiceDefinition def() {
        return versions.get(target);
    }

    int addVersion(ServiceDefinition def) {
        int v = versions.isEmpty() ? 1 : versions.lastKey() + 1;
        versions.put(v, def);
        while (versions.size() > VERSIONS_KEPT) {
            versions.pollFirstEntry();
        }
        return v;
    }

    ObjectNode toJson() {
        ObjectNode o = DefinitionJson.MAPPER.createObjectNode();
        o.put("id", id).put("target", target).put("status", status.name()).put("reason", reason)
                .put("consecutiveFailures", consecutiveFailures).put("nextInstance", nextInstance);
        ObjectNode vs = o.putObject("versions");
        versions.forEach((v, d) -> vs.set(Integer.toString(v), DefinitionJson.write(d)));
        return o;
    }

    static ServiceState fromJson(JsonNode o) {
        ServiceState s = new ServiceState(o.get("id").asText());
        s.target = o.get("target").asInt();
        s.status = Status.valueOf(o.get("status").asText());
        s.reason = o.path("reason").asText("");
        s.consecutiveFailures = o.path("consecutiveFailures").asInt();
        s.nextInstance = o.path("nextInstance").asLong(1);
        o.get("versions").fields().forEachRemaining(e -> s.versions.put(Integer.parseInt(e.getKey()),
                DefinitionJson.parse(e.getValue())));
        return s;
    }
}
