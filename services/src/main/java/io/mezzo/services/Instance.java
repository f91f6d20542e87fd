package io.mezzo.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One instance of a service: one task on one agent. Hard state (persisted before the task is launched
 * or killed): id, service, version, agent, host, ports, launch time and whether it is being killed.
 * Soft state (rebuilt from status updates and reconciliation after a restart): phase, health,
 * draining.
 *
 * <p>Thread: the manager's loop. Owner: {@link ServiceManager}.
 */
final class Instance {

    /** Where the instance is in its life. */
    enum Phase {
        /** Launched (or recovered), no TASK_RUNNING seen yet. */
        STARTING,
        /** TASK_RUNNING. */
        RUNNING,
        /** The scheduler asked for it to be killed; its end is expected, not a failure. */
        KILLING
    }

    final String id;
    final String service;
    final int version;
    final String agentId;
    final String hostname;
    final List<Long> ports;
    final long launchedAt;
    Phase phase = Phase.STARTING;
    /** Latest health: null before the first result (counts as not healthy). */
    Boolean healthy;
    /** When it last became healthy, or -1. */
    long healthySince = -1;
    /** On an agent with a pending maintenance window: to be replaced elsewhere. */
    boolean draining;
    /** Loaded from the store; no answer from the master about it yet. */
    boolean recovered;
    /** Latest task state, for the API. */
    String taskState = "TASK_STAGING";

    Instance(String id, String service, int version, String agentId, String hostname, List<Long> ports, long launchedAt) {
        this.id = id;
        this.service = service;
        this.version = version;
        this.agentId = agentId;
        this.hostname = hostname;
        this.ports = List.copyOf(ports);
        this.launchedAt = launchedAt;
    }

    /** A copy with the same hard and soft state (the manager's snapshot before a write). */
    Instance copy() {
        Instance c = new Instance(id, service, version, agentId, hostname, ports, launchedAt);
        c.phase = phase;
        c.healthy = healthy;
        c.healthySince = healthySince;
        c.draining = draining;
        c.recovered = recovered;
        c.taskState = taskState;
        return c;
    }

    boolean isHealthy() {
        return phase == Phase.RUNNING && Boolean.TRUE.equals(healthy);
    }

    /** The stored record. */
    ObjectNode toJson() {
        ObjectNode o = DefinitionJson.MAPPER.createObjectNode();
        o.put("id", id).put("service", service).put("version", version).put("agentId", agentId)
                .put("hostname", hostname).put("launchedAt", launchedAt).put("killing", phase == Phase.KILLING);
        var p = o.putArray("ports");
        ports.forEach(p::add);
        return o;
    }

    static Instance fromJson(JsonNode o) {
        List<Long> ports = new ArrayList<>();
        o.get("ports").forEach(p -> ports.add(p.asLong()));
        Instance i = new Instance(o.get("id").asText(), o.get("service").asText(), o.get("version").asInt(),
                o.get("agentId").asText(), o.get("hostname").asText(), ports, o.get("launchedAt").asLong());
        if (o.path("killing").asBoolean()) {
            i.phase = Phase.KILLING;
        }
        i.recovered = true;
        return i;
    }

    /** The API view. */
    ObjectNode view() {
        ObjectNode o = toJson();
        o.remove("killing");
        o.put("state", taskState).put("phase", phase.name());
        if (healthy != null) {
            o.put("healthy", healthy);
        } else {
            o.putNull("healthy");
        }
        o.put("draining", draining);
        return o;
    }

    @Override
    public String toString() {
        return id + " (v" + version + " on " + hostname + ", " + phase + (isHealthy() ? ", healthy" : "") + ")";
    }
}
