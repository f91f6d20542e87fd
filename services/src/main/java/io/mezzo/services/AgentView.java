package io.mezzo.services;

import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.Offer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the service scheduler has learnt of one agent from its offers: host, attributes and the most
 * it has offered at once (the best estimate a framework has of the agent's size). Immutable.
 *
 * @param attributes text form of each attribute (scalars in plain decimal, sets and ranges as given)
 */
public record AgentView(String agentId, String hostname, Map<String, String> attributes, long cpusMilli,
        long memMilli, long diskMilli, long ports) {

    /** Copies the attributes. */
    public AgentView {
        attributes = Map.copyOf(attributes);
    }

    /** The view an offer gives, merged with what was known (sizes only grow). */
    static AgentView from(Offer offer, AgentView known) {
        Resources r = Resources.fromProto(offer.getResourcesList());
        Map<String, String> attributes = new LinkedHashMap<>();
        for (Attribute a : offer.getAttributesList()) {
            attributes.put(a.getName(), attributeText(a));
        }
        long cpus = r.scalar(Resources.CPUS);
        long mem = r.scalar(Resources.MEM);
        long disk = r.scalar(Resources.DISK);
        long ports = r.ranges(Resources.PORTS).size();
        if (known != null) {
            cpus = Math.max(cpus, known.cpusMilli);
            mem = Math.max(mem, known.memMilli);
            disk = Math.max(disk, known.diskMilli);
            ports = Math.max(ports, known.ports);
        }
        return new AgentView(offer.getAgentId().getValue(), offer.getHostname(), attributes, cpus, mem, disk, ports);
    }

    /** The value a constraint on {@code field} compares: the hostname, or the attribute (null if absent). */
    String field(String field) {
        return "hostname".equals(field) ? hostname : attributes.get(field);
    }

    static String attributeText(Attribute a) {
        return switch (a.getType()) {
            case SCALAR -> java.math.BigDecimal.valueOf(a.getScalar().getMilli(), 3).stripTrailingZeros().toPlainString();
            case TEXT -> a.getText().getValue();
            case SET -> String.join(",", a.getSet().getItemList());
            case RANGES -> io.mezzo.common.resources.RangeSet.fromProto(a.getRanges()).toString();
            default -> "";
        };
    }
}
