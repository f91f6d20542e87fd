package io.mezzo.common.resources;

import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Pure checks of protocol resources. Each returns {@code null} when valid, or one sentence that
 * says what is wrong, for an error reply.
 */
public final class ResourceValidation {

    private ResourceValidation() {}

    /** Validates a list: every resource valid, and no name/reservation given twice with a different type. */
    public static String validate(List<Resource> resources) {
        Map<String, Value.Type> typeById = new HashMap<>();
        Map<String, Long> scalarById = new HashMap<>();
        for (Resource r : resources) {
            String error = validateOne(r);
            if (error != null) {
                return error;
            }
            if (r.getType() == Value.Type.SCALAR) {
                // A list whose amounts add up past 2^63-1 thousandths would overflow when summed.
                String key = r.getName() + "|" + (r.hasReservation() ? r.getReservation().toString() : "*");
                long before = scalarById.getOrDefault(key, 0L);
                if (before > Long.MAX_VALUE - r.getScalar().getMilli()) {
                    return "resource '" + r.getName() + "' adds up to more than 2^63-1 thousandths";
                }
                scalarById.put(key, before + r.getScalar().getMilli());
            }
            String id = r.getName() + "|" + (r.hasReservation() ? r.getReservation().toString() : "*");
            Value.Type earlier = typeById.putIfAbsent(id, r.getType());
            if (earlier != null && earlier != r.getType()) {
                return "resource '" + r.getName() + "' is given as both " + earlier + " and " + r.getType();
            }
        }
        return null;
    }

    /** Validates one resource. */
    public static String validateOne(Resource r) {
        String name = r.getName();
        if (name.isEmpty()) {
            return "a resource has an empty name";
        }
        if (!name.matches("[A-Za-z0-9_.\\-]+")) {
            return "resource name '" + name + "' may only hold letters, digits, '_', '.' and '-'";
        }
        switch (r.getType()) {
            case SCALAR -> {
                if (!r.hasScalar()) {
                    return "scalar resource '" + name + "' has no scalar value";
                }
                if (r.getScalar().getMilli() < 0) {
                    return "resource '" + name + "' has a negative amount";
                }
                if (r.hasRanges() || r.hasSet()) {
                    return "scalar resource '" + name + "' also carries ranges or a set";
                }
            }
            case RANGES -> {
                if (!r.hasRanges()) {
                    return "ranges resource '" + name + "' has no ranges";
                }
                for (Value.Range range : r.getRanges().getRangeList()) {
                    if (range.getEnd() < range.getBegin()) {
                        return "resource '" + name + "' has range [" + range.getBegin() + "-" + range.getEnd()
                                + "] whose end is before its begin";
                    }
                    if (range.getBegin() < 0 || range.getEnd() < 0) {
                        return "resource '" + name + "' has a range beyond 2^63-1";
                    }
                }
                if (r.hasScalar() || r.hasSet()) {
                    return "ranges resource '" + name + "' also carries a scalar or a set";
                }
            }
            case SET -> {
                if (!r.hasSet()) {
                    return "set resource '" + name + "' has no set";
                }
                if (new HashSet<>(r.getSet().getItemList()).size() != r.getSet().getItemCount()) {
                    return "set resource '" + name + "' has duplicate items";
                }
                if (r.hasScalar() || r.hasRanges()) {
                    return "set resource '" + name + "' also carries a scalar or ranges";
                }
            }
            case TEXT -> {
                return "resource '" + name + "' has type TEXT, which only attributes may have";
            }
            default -> {
                return "resource '" + name + "' has no type (SCALAR, RANGES or SET)";
            }
        }
        if (r.hasReservation()) {
            ReservationInfo res = r.getReservation();
            String roleError = Roles.validate(res.getRole());
            if (roleError != null) {
                return "resource '" + name + "' is reserved for an invalid role: " + roleError;
            }
            if (res.getRole().equals("*")) {
                return "resource '" + name + "' cannot be reserved for role '*'";
            }
            if (res.getType() == ReservationInfo.Type.UNKNOWN) {
                return "resource '" + name + "' has a reservation without a type (STATIC or DYNAMIC)";
            }
        }
        return null;
    }
}
