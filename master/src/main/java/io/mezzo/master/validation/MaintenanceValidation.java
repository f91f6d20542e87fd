package io.mezzo.master.validation;

import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.MaintenanceWindow;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Checks of the operator's drain and maintenance requests (DrainAgent, UpdateMaintenanceSchedule).
 * Pure: plain inputs in, null or a specific error out; any thread.
 */
public final class MaintenanceValidation {

    /** At most this many windows in a schedule (it is one registry record). */
    public static final int MAX_WINDOWS = 1000;

    private MaintenanceValidation() {}

    /** Null when {@code config} is valid, else why not. */
    public static String validate(DrainConfig config) {
        if (config.hasMaxGracePeriod() && config.getMaxGracePeriod().getNanoseconds() < 0) {
            return "max_grace_period is negative";
        }
        return null;
    }

    /**
     * Null when every agent id in {@code windows} follows the {@link IdValidation} rule, else why
     * not. The edge runs it before the ids reach authorization, the audit log or the registry.
     */
    public static String validateAgentIds(List<MaintenanceWindow> windows) {
        for (int i = 0; i < windows.size(); i++) {
            for (var id : windows.get(i).getAgentIdsList()) {
                String error = IdValidation.validate("window " + i + " agent_id", id.getValue());
                if (error != null) {
                    return error;
                }
            }
        }
        return null;
    }

    /**
     * Null when {@code windows} is a valid schedule: each window names at least one agent, each
     * agent id follows the {@link IdValidation} rule and is known ({@code known}) and in at most one window, start times are finite and not
     * negative, grace periods are not negative.
     */
    public static String validate(List<MaintenanceWindow> windows, Predicate<String> known) {
        if (windows.size() > MAX_WINDOWS) {
            return "the schedule has " + windows.size() + " windows; at most " + MAX_WINDOWS;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < windows.size(); i++) {
            MaintenanceWindow w = windows.get(i);
            if (w.getAgentIdsCount() == 0) {
                return "window " + i + " names no agent";
            }
            if (!Double.isFinite(w.getStartTime()) || w.getStartTime() < 0) {
                return "window " + i + " has start_time " + w.getStartTime() + "; it must be seconds since the epoch";
            }
            String error = validate(w.getDrainConfig());
            if (error != null) {
                return "window " + i + ": " + error;
            }
            for (var id : w.getAgentIdsList()) {
                String idError = IdValidation.validate("window " + i + " agent_id", id.getValue());
                if (idError != null) {
                    return idError;
                }
                if (!known.test(id.getValue())) {
                    return "window " + i + " names unknown agent '" + id.getValue() + "'";
                }
                if (!seen.add(id.getValue())) {
                    return "agent " + id.getValue() + " is in more than one window";
                }
            }
        }
        return null;
    }
}
