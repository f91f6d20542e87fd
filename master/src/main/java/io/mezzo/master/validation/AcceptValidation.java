package io.mezzo.master.validation;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.id.OfferId;
import io.mezzo.common.id.TaskId;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Call;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.ReservationInfo;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.StatusReason;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.TaskState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Pure validation of an ACCEPT call: everything is judged before anything changes, and the answer
 * is either a {@link Plan} for the master to apply or the reasons nothing may be done. The master
 * hands in plain reads of its state (the offers it holds, whether an agent may be offered, the
 * framework's task ids and principal); nothing here touches the master's records. Any thread.
 *
 * <pre>
 *  filters invalid ----------------------------------------> InvalidCall (the offers stay outstanding)
 *  1. offers: all outstanding, all the framework's, one agent, one role, agent offerable
 *        invalid --> Refusal: TASK_DROPPED (REASON_INVALID_OFFERS) per task, the offers found go back
 *  2. operations in order on a working copy of the offered resources:
 *        LAUNCH (TaskValidation, unique and unused ids, resources held), RESERVE, UNRESERVE
 *        invalid --> Refusal: TASK_ERROR for a task's own error, TASK_DROPPED for the others;
 *                    every offer goes back
 *  3. valid --> Plan: the offers used, reservation conversions, launches, what is left unused
 * </pre>
 *
 * <p>Error messages are part of the protocol (schedulers and tests read them): keep them.
 */
public final class AcceptValidation {

    /** Most operations in one ACCEPT (docs/api.md, "Limits"). */
    public static final int MAX_OPERATIONS = 1000;
    /** Most tasks LAUNCHed by one ACCEPT, over all its operations. */
    public static final int MAX_TASKS = 1000;
    /** Most offer ids one ACCEPT may name. */
    public static final int MAX_OFFERS = 1000;

    private AcceptValidation() {}

    /** An outstanding offer as the validation sees it. */
    public record OfferView(OfferId id, FrameworkId framework, AgentId agent, String role, Resources resources) {}

    /** What an ACCEPT leads to. */
    public sealed interface Outcome permits InvalidCall, Refusal, Plan {}

    /** The call itself is invalid (its filters): answer with an ERROR; nothing else changes. */
    public record InvalidCall(String error) implements Outcome {}

    /**
     * Nothing is launched: each LAUNCHed task gets its status, the offers found go back to the
     * allocator at once, and when no task was named the framework gets {@code error} as an ERROR.
     *
     * @param agent the agent of the offers, when they were valid (null when the offers were not)
     */
    public record Refusal(String error, AgentId agent, List<OfferId> offers, List<TaskRefusal> tasks)
            implements Outcome {}

    /**
     * The status of one task of a refused ACCEPT, before the master maps it for frameworks that are
     * not PARTITION_AWARE (TASK_DROPPED becomes TASK_LOST).
     */
    public record TaskRefusal(String taskId, String agentId, TaskState state, StatusReason reason, String message) {}

    /**
     * A valid ACCEPT: the offers are used; the conversions (RESERVE, UNRESERVE) and launches apply in
     * order on {@code agent}, allocated to {@code role}; {@code unused} goes back to the allocator.
     */
    public record Plan(AgentId agent, String role, List<OfferId> offers, List<Conversion> conversions,
            List<Launch> launches, Resources unused) implements Outcome {}

    /** A RESERVE or UNRESERVE: {@code from} becomes {@code to} on the agent. */
    public record Conversion(Resources from, Resources to) {}

    /** A task to launch with the resources it takes from the offers. */
    public record Launch(TaskInfo task, Resources resources) {}

    /**
     * Validates {@code accept} from {@code framework}.
     *
     * @param principal the framework's principal ("" for none); reservations must name it
     * @param offers the outstanding offer with an id, or null
     * @param agentOfferable whether an agent is registered, connected and not draining
     * @param taskIdsInUse the ids of the framework's tasks the master knows
     */
    public static Outcome validate(Call.Accept accept, FrameworkId framework, String principal,
            Function<OfferId, OfferView> offers, Predicate<AgentId> agentOfferable, Set<TaskId> taskIdsInUse) {
        String filterError = FilterValidation.validate(accept.getFilters());
        if (filterError != null) {
            return new InvalidCall(filterError);
        }
        if (accept.getOperationsCount() > MAX_OPERATIONS) {
            return new InvalidCall("ACCEPT has " + accept.getOperationsCount() + " operations, more than the limit of "
                    + MAX_OPERATIONS);
        }
        if (accept.getOfferIdsCount() > MAX_OFFERS) {
            return new InvalidCall("ACCEPT names " + accept.getOfferIdsCount() + " offers, more than the limit of "
                    + MAX_OFFERS);
        }
        List<TaskInfo> launches = new ArrayList<>();
        for (Offer.Operation op : accept.getOperationsList()) {
            if (op.getType() == Offer.Operation.Type.LAUNCH) {
                launches.addAll(op.getLaunch().getTaskInfosList());
            }
        }
        if (launches.size() > MAX_TASKS) {
            return new InvalidCall("ACCEPT launches " + launches.size() + " tasks, more than the limit of " + MAX_TASKS);
        }

        // 1. The offers: all outstanding, all ours, one agent, one role.
        List<OfferView> used = new ArrayList<>();
        String offerError = null;
        Set<OfferId> seen = new HashSet<>();
        if (accept.getOfferIdsCount() == 0) {
            offerError = "ACCEPT names no offers";
        }
        for (var protoId : accept.getOfferIdsList()) {
            if (protoId.getValue().isEmpty()) {
                offerError = "ACCEPT names an empty offer id";
                continue;
            }
            OfferId id = OfferId.of(protoId);
            OfferView offer = offers.apply(id);
            if (!seen.add(id)) {
                offerError = "offer " + id + " is named twice";
            } else if (offer == null || !offer.framework().equals(framework)) {
                offerError = "offer " + id + " is unknown, expired, rescinded or already used";
            } else {
                if (!used.isEmpty() && !used.get(0).agent().equals(offer.agent())) {
                    offerError = "offers " + used.get(0).id() + " and " + id + " are on different agents ("
                            + used.get(0).agent() + ", " + offer.agent() + ")";
                } else if (!used.isEmpty() && !used.get(0).role().equals(offer.role())) {
                    offerError = "offers " + used.get(0).id() + " and " + id + " are for different roles";
                }
                used.add(offer);
            }
        }
        AgentId agent = used.isEmpty() ? null : used.get(0).agent();
        if (offerError == null && !agentOfferable.test(agent)) {
            offerError = "agent " + agent + " is no longer registered and connected";
        }
        List<OfferId> offerIds = used.stream().map(OfferView::id).toList();
        if (offerError != null) {
            List<TaskRefusal> refused = new ArrayList<>();
            for (TaskInfo task : launches) {
                refused.add(new TaskRefusal(task.getTaskId().getValue(), task.getAgentId().getValue(),
                        TaskState.TASK_DROPPED, StatusReason.REASON_INVALID_OFFERS, offerError));
            }
            return new Refusal(offerError, null, offerIds, refused);
        }

        // 2. The operations, applied in order to a working copy of the offered resources.
        String role = used.get(0).role();
        Resources remaining = Resources.EMPTY;
        for (OfferView offer : used) {
            remaining = remaining.plus(offer.resources());
        }
        // Errors by the task's position among all LAUNCHed tasks (ids may repeat).
        Map<Integer, String> taskErrors = new LinkedHashMap<>();
        int position = 0;
        List<Launch> valid = new ArrayList<>();
        List<Conversion> conversions = new ArrayList<>();
        Set<String> taskIds = new HashSet<>();
        String opError = null;
        for (int i = 0; i < accept.getOperationsCount() && opError == null; i++) {
            Offer.Operation op = accept.getOperations(i);
            switch (op.getType()) {
                case LAUNCH -> {
                    if (op.getLaunch().getTaskInfosCount() == 0) {
                        opError = "LAUNCH operation " + i + " has no tasks";
                    }
                    for (TaskInfo task : op.getLaunch().getTaskInfosList()) {
                        int at = position++;
                        String id = task.getTaskId().getValue();
                        TaskValidation.Checked checked = TaskValidation.check(task, agent.value());
                        String error = checked.error();
                        if (error == null && !taskIds.add(id)) {
                            error = "task_id " + id + " appears twice in this ACCEPT";
                        }
                        if (error == null && taskIdsInUse.contains(TaskId.of(id))) {
                            error = "task_id " + id + " is already used by a task of this framework";
                        }
                        if (error == null) {
                            Resources needed = checked.resources();
                            if (!remaining.contains(needed)) {
                                error = "task " + id + " asks for " + needed + " but the offers only hold " + remaining;
                            } else {
                                remaining = remaining.minus(needed);
                                valid.add(new Launch(task, needed));
                            }
                        }
                        if (error != null) {
                            taskErrors.put(at, error);
                        }
                    }
                }
                case RESERVE -> {
                    String error = reservationError(principal, role, op.getReserve().getResourcesList(), true);
                    if (error == null) {
                        Resources reserved = Resources.fromProto(op.getReserve().getResourcesList());
                        Resources unreserved = reserved.withoutReservations();
                        if (!remaining.contains(unreserved)) {
                            error = "RESERVE of " + reserved + " needs unreserved " + unreserved + " but the offers hold "
                                    + remaining;
                        } else {
                            remaining = remaining.minus(unreserved).plus(reserved);
                            conversions.add(new Conversion(unreserved, reserved));
                        }
                    }
                    opError = error == null ? null : "operation " + i + " (RESERVE): " + error;
                }
                case UNRESERVE -> {
                    String error = reservationError(principal, role, op.getUnreserve().getResourcesList(), false);
                    if (error == null) {
                        Resources reserved = Resources.fromProto(op.getUnreserve().getResourcesList());
                        if (!remaining.contains(reserved)) {
                            error = "UNRESERVE of " + reserved + " but the offers hold " + remaining;
                        } else {
                            Resources unreserved = reserved.withoutReservations();
                            remaining = remaining.minus(reserved).plus(unreserved);
                            conversions.add(new Conversion(reserved, unreserved));
                        }
                    }
                    opError = error == null ? null : "operation " + i + " (UNRESERVE): " + error;
                }
                default -> opError = "operation " + i + " has no type (LAUNCH, RESERVE or UNRESERVE)";
            }
        }
        if (opError != null || !taskErrors.isEmpty()) {
            String firstTaskError = taskErrors.isEmpty() ? null : taskErrors.values().iterator().next();
            String error = opError != null ? opError : firstTaskError;
            List<TaskRefusal> refused = new ArrayList<>();
            for (int at = 0; at < launches.size(); at++) {
                String id = launches.get(at).getTaskId().getValue();
                String own = taskErrors.get(at);
                if (own != null) {
                    refused.add(new TaskRefusal(id, agent.value(), TaskState.TASK_ERROR, StatusReason.REASON_TASK_INVALID,
                            own));
                } else {
                    refused.add(new TaskRefusal(id, agent.value(), TaskState.TASK_DROPPED,
                            StatusReason.REASON_TASK_INVALID,
                            "not launched: another operation of the same ACCEPT is invalid: " + error));
                }
            }
            return new Refusal(error, agent, offerIds, refused);
        }

        // 3. Valid. The offered resources stay allocated to the framework's role: the tasks keep
        //    theirs, and only what no operation used goes back.
        return new Plan(agent, role, offerIds, List.copyOf(conversions), List.copyOf(valid), remaining);
    }

    /**
     * Checks a RESERVE ({@code reserve}) or UNRESERVE. A reservation is for the role the offers were
     * made to: the resources stay allocated to that role, and a reservation for another of the
     * framework's roles would hand them to a role they were never offered to.
     */
    static String reservationError(String principal, String offerRole, List<Resource> resources, boolean reserve) {
        if (resources.isEmpty()) {
            return "no resources given";
        }
        String error = ResourceValidation.validate(resources);
        if (error != null) {
            return error;
        }
        for (Resource r : resources) {
            if (!r.hasReservation() || r.getReservation().getType() != ReservationInfo.Type.DYNAMIC) {
                return "resource '" + r.getName() + "' must carry a DYNAMIC reservation";
            }
            String role = r.getReservation().getRole();
            if (reserve && !role.equals(offerRole)) {
                return "resource '" + r.getName() + "' is reserved for role '" + role + "' but the offers were made to"
                        + " role '" + offerRole + "'; reserve for the offers' role";
            }
            if (reserve && !principal.isEmpty() && !r.getReservation().getPrincipal().equals(principal)) {
                return "resource '" + r.getName() + "' names principal '" + r.getReservation().getPrincipal()
                        + "' but the framework's principal is '" + principal + "'";
            }
        }
        return null;
    }
}
