package io.mezzo.master.validation;

import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.proto.v1.AgentInfo;

/**
 * Pure check of the AgentInfo an agent registers or re-registers with: everything that can be
 * judged without the master's state. Any thread.
 */
public final class AgentValidation {

    private AgentValidation() {}

    /** Null when valid, else the reason (naming the field). */
    public static String validate(AgentInfo info) {
        if (info.getHostname().isBlank()) {
            return "agent_info.hostname is empty";
        }
        String error = ResourceValidation.validate(info.getResourcesList());
        return error == null ? null : "agent_info.resources: " + error;
    }
}
