package io.mezzo.master.validation;

import io.mezzo.common.resources.Roles;
import io.mezzo.proto.v1.FrameworkInfo;
import java.util.HashSet;
import java.util.Set;

/** Pure checks of a SUBSCRIBE call's FrameworkInfo; null when valid, else the reason. Stateless; any thread. */
public final class FrameworkValidation {

    /** The longest failover timeout accepted: one year, in seconds. */
    public static final double MAX_FAILOVER_TIMEOUT = 365.0 * 24 * 3600;

    private FrameworkValidation() {}

    /** Validates a framework subscribing or resubscribing. */
    public static String validate(FrameworkInfo info) {
        if (info.getName().isBlank()) {
            return "framework_info.name is empty";
        }
        if (info.hasId() && !IdValidation.isValid(info.getId().getValue())) {
            return "framework_info.id '" + info.getId().getValue() + "' is not a valid id";
        }
        double timeout = info.getFailoverTimeout();
        if (Double.isNaN(timeout) || Double.isInfinite(timeout) || timeout < 0) {
            return "framework_info.failover_timeout " + timeout + " is not a non-negative number of seconds";
        }
        if (timeout > MAX_FAILOVER_TIMEOUT) {
            return "framework_info.failover_timeout " + timeout + " is longer than one year";
        }
        Set<String> roles = new HashSet<>();
        for (String role : info.getRolesList()) {
            String error = Roles.validate(role);
            if (error != null) {
                return "framework_info.roles: " + error;
            }
            if (!roles.add(role)) {
                return "framework_info.roles lists '" + role + "' twice";
            }
        }
        boolean multiRole = info.getCapabilitiesList().stream()
                .anyMatch(c -> c.getType() == FrameworkInfo.Capability.Type.MULTI_ROLE);
        if (roles.size() > 1 && !multiRole) {
            return "framework_info.roles has " + roles.size() + " roles but the framework lacks the MULTI_ROLE capability";
        }
        for (FrameworkInfo.Capability c : info.getCapabilitiesList()) {
            if (c.getType() == FrameworkInfo.Capability.Type.UNKNOWN
                    || c.getType() == FrameworkInfo.Capability.Type.UNRECOGNIZED) {
                return "framework_info.capabilities has an unknown capability";
            }
        }
        return null;
    }
}
