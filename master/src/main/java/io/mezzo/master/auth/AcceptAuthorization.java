package io.mezzo.master.auth;

import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.FrameworkInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskInfo;

/**
 * The ACL checks of an ACCEPT, made before it is validated and applied: every LAUNCHed task's user
 * ({@code run_tasks}: the task's {@code command.user}, else the framework's user), every RESERVE's
 * role ({@code reserve_resources}) and every UNRESERVE's reserving principal ({@code
 * unreserve_resources}). Pure; any thread.
 */
public final class AcceptAuthorization {

    private AcceptAuthorization() {}

    /** A refused ACCEPT: the message, and whether a task's user was the reason. */
    public record Denial(String message, boolean user) {}

    /** Null when {@code principal} may do everything {@code accept} asks; otherwise the first refusal. */
    public static Denial check(Acls acls, String principal, FrameworkInfo framework, Call.Accept accept) {
        if (acls.isPermissiveDefault()) {
            return null;
        }
        for (Offer.Operation op : accept.getOperationsList()) {
            switch (op.getType()) {
                case LAUNCH -> {
                    for (TaskInfo task : op.getLaunch().getTaskInfosList()) {
                        String user = task.getCommand().getUser().isEmpty() ? framework.getUser() : task.getCommand().getUser();
                        String deny = acls.deny(Action.RUN_TASKS, principal, user);
                        if (deny != null) {
                            return new Denial("task " + task.getTaskId().getValue() + " would run as user '" + user + "': "
                                    + deny, true);
                        }
                    }
                }
                case RESERVE -> {
                    for (Resource r : op.getReserve().getResourcesList()) {
                        String deny = acls.deny(Action.RESERVE_RESOURCES, principal, r.getReservation().getRole());
                        if (deny != null) {
                            return new Denial("RESERVE refused: " + deny, false);
                        }
                    }
                }
                case UNRESERVE -> {
                    for (Resource r : op.getUnreserve().getResourcesList()) {
                        String deny = acls.deny(Action.UNRESERVE_RESOURCES, principal, r.getReservation().getPrincipal());
                        if (deny != null) {
                            return new Denial("UNRESERVE refused: " + deny, false);
                        }
                    }
                }
                default -> {
                    // Validated later (AcceptValidation).
                }
            }
        }
        return null;
    }
}
