package io.mezzo.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A change of a service from one version to another: a rolling replacement, optionally after
 * canaries, or a rollback. Hard state (persisted before it acts): every field; {@code
 * canariesHealthyAt} is soft (restarts from the next health result).
 *
 * <pre>
 *   RUNNING (canaries starting) --all canaries healthy--> WAITING_PROMOTION (manual promotion)
 *   RUNNING --promote / autoPromoteAfter--> RUNNING (promoted: rolling the rest) --all new healthy, old gone--> SUCCEEDED
 *   RUNNING / WAITING_PROMOTION --new instance failed, progress deadline, abort--> ROLLED_BACK (+ a rollback deployment)
 *                                                                      or FAILED (no autoRevert: frozen)
 *   any active --a newer deploy--> SUPERSEDED
 * </pre>
 *
 * <p>Thread: the manager's loop. Owner: {@link ServiceManager}.
 */
final class Deployment {

    /** Deployment states. */
    enum State { RUNNING, WAITING_PROMOTION, SUCCEEDED, FAILED, ROLLED_BACK, SUPERSEDED }

    final String id;
    final String service;
    final int fromVersion;
    final int toVersion;
    final int canaries;
    final boolean rollback;
    final long startedAt;
    boolean promoted;
    State state = State.RUNNING;
    String reason = "";
    long lastProgressAt;
    long canariesHealthyAt = -1;

    Deployment(String id, String service, int fromVersion, int toVersion, int canaries, boolean rollback, long startedAt) {
        this.id = id;
        this.service = service;
        this.fromVersion = fromVersion;
        this.toVersion = toVersion;
        this.canaries = canaries;
        this.rollback = rollback;
        this.startedAt = startedAt;
        this.promoted = canaries == 0;
        this.lastProgressAt = startedAt;
    }

    /** A copy with the same state (the manager's snapshot before a write). */
    Deployment copy() {
        Deployment c = new Deployment(id, service, fromVersion, toVersion, canaries, rollback, startedAt);
        c.promoted = promoted;
        c.state = state;
        c.reason = reason;
        c.lastProgressAt = lastProgressAt;
        c.canariesHealthyAt = canariesHealthyAt;
        return c;
    }

    boolean active() {
        return state == State.RUNNING || state == State.WAITING_PROMOTION;
    }

    boolean inCanary() {
        return active() && !promoted;
    }

    ObjectNode toJson() {
        ObjectNode o = DefinitionJson.MAPPER.createObjectNode();
        o.put("id", id).put("service", service).put("fromVersion", fromVersion).put("toVersion", toVersion)
                .put("canaries", canaries).put("rollback", rollback).put("startedAt", startedAt).put("promoted", promoted)
                .put("state", state.name()).put("reason", reason).put("lastProgressAt", lastProgressAt);
        return o;
    }

    static Deployment fromJson(JsonNode o) {
        Deployment d = new Deployment(o.get("id").asText(), o.get("service").asText(), o.get("fromVersion").asInt(),
                o.get("toVersion").asInt(), o.get("canaries").asInt(), o.get("rollback").asBoolean(),
                o.get("startedAt").asLong());
        d.promoted = o.get("promoted").asBoolean();
        d.state = State.valueOf(o.get("state").asText());
        d.reason = o.path("reason").asText("");
        d.lastProgressAt = o.path("lastProgressAt").asLong(d.startedAt);
        return d;
    }

    @Override
    public String toString() {
        return id + " (" + service + " v" + fromVersion + " -> v" + toVersion + ", " + state + ")";
    }
}
