package io.mezzo.master.validation;

import io.mezzo.common.resources.ResourceBounds;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.validation.Ids;
import io.mezzo.common.validation.Limits;
import io.mezzo.proto.v1.AgentInfo;
import io.mezzo.proto.v1.Attribute;

/**
 * Pure check of the AgentInfo an agent registers or re-registers with: everything that can be
 * judged without the master's state, including the documented limits ({@link Limits}, {@link
 * ResourceBounds}) and that the info fits its registry record. Any thread.
 */
public final class AgentValidation {

    private AgentValidation() {}

    /** Null when valid, else the reason (naming the field). */
    public static String validate(AgentInfo info) {
        if (info.getHostname().isBlank()) {
            return "agent_info.hostname is empty";
        }
        String error = Limits.length("agent_info.hostname", info.getHostname(), Limits.HOSTNAME);
        if (error == null) {
            error = Limits.length("agent_info.version", info.getVersion(), Limits.TAG);
        }
        if (error == null && info.hasId() && !info.getId().getValue().isEmpty()) {
            error = Ids.validate("agent_info.id", info.getId().getValue());
        }
        if (error == null && (info.getPort() < 0 || info.getPort() > 65535)) {
            error = "agent_info.port " + info.getPort() + " is not in 0-65535";
        }
        if (error == null) {
            error = attributes(info);
        }
        if (error == null && info.getSerializedSize() > Limits.RECORD_BYTES) {
            error = "agent_info is " + info.getSerializedSize() + " bytes, more than the limit of " + Limits.RECORD_BYTES;
        }
        if (error != null) {
            return error;
        }
        error = ResourceValidation.validate(info.getResourcesList());
        if (error == null) {
            error = ResourceBounds.checkAgent(info.getResourcesList());
        }
        return error == null ? null : "agent_info.resources: " + error;
    }

    private static String attributes(AgentInfo info) {
        String error = Limits.count("agent_info.attributes", info.getAttributesCount(), Limits.ATTRIBUTES);
        for (int i = 0; error == null && i < info.getAttributesCount(); i++) {
            Attribute a = info.getAttributes(i);
            String field = "agent_info.attributes[" + i + "]";
            error = Limits.length(field + ".name", a.getName(), Limits.ATTRIBUTE_VALUE);
            if (error == null) {
                error = Limits.length(field + ".text", a.getText().getValue(), Limits.ATTRIBUTE_VALUE);
            }
            if (error == null) {
                error = Limits.count(field + ".set", a.getSet().getItemCount(), Limits.ATTRIBUTES);
            }
            for (int j = 0; error == null && j < a.getSet().getItemCount(); j++) {
                error = Limits.length(field + ".set[" + j + "]", a.getSet().getItem(j), Limits.ATTRIBUTE_VALUE);
            }
            if (error == null) {
                error = Limits.count(field + ".ranges", a.getRanges().getRangeCount(), Limits.ATTRIBUTES);
            }
        }
        return error;
    }
}
