package io.mezzo.master.validation;

import io.mezzo.common.resources.Roles;
import io.mezzo.common.validation.Limits;
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
        String error = lengths(info);
        if (error != null) {
            return error;
        }
        if (info.hasId() && !IdValidation.isValid(info.getId().getValue())) {
            return IdValidation.validate("framework_info.id", info.getId().getValue());
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
            error = Roles.validate(role);
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

    /**
     * The documented limits of the free-text fields ({@link Limits}), and of the whole info, which
     * becomes the framework's registry record: a record too big to write is refused here, before
     * anything is acted on.
     */
    private static String lengths(FrameworkInfo info) {
        String error = Limits.length("framework_info.name", info.getName(), Limits.NAME);
        if (error == null) {
            error = Limits.length("framework_info.hostname", info.getHostname(), Limits.HOSTNAME);
        }
        if (error == null) {
            error = Limits.length("framework_info.principal", info.getPrincipal(), Limits.PRINCIPAL);
        }
        if (error == null) {
            error = Limits.length("framework_info.user", info.getUser(), Limits.USER);
        }
        if (error == null) {
            error = Limits.count("framework_info.roles", info.getRolesCount(), Limits.ROLES);
        }
        for (int i = 0; error == null && i < info.getRolesCount(); i++) {
            error = Limits.length("framework_info.roles[" + i + "]", info.getRoles(i), Limits.ROLE);
        }
        if (error == null) {
            error = Limits.count("framework_info.capabilities", info.getCapabilitiesCount(), 16);
        }
        if (error == null) {
            error = Limits.labels("framework_info.labels", info.getLabels());
        }
        if (error == null && info.getSerializedSize() > Limits.RECORD_BYTES) {
            error = "framework_info is " + info.getSerializedSize() + " bytes, more than the limit of "
                    + Limits.RECORD_BYTES;
        }
        return error;
    }
}
