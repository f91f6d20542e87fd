package io.mezzo.scheduler;

import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.AllocationInfo;
import io.mezzo.proto.v1.Offer;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Packs tasks into one offer: fills in what every task on it must repeat (the offer's agent id, and
 * the role the offer was made under in each resource's {@code allocation_info}) and keeps the
 * resources left after each task, so a framework can place several tasks on one offer without doing
 * the arithmetic. Launch the result with {@link SchedulerDriver#launch(Offer, TaskInfo...)} (which
 * uses a packer itself) or {@code driver.launch(offer.getId(), packer.tasks())}.
 *
 * <pre>{@code
 * OfferPacker packer = OfferPacker.of(offer);
 * while (!pending.isEmpty() && packer.add(pending.peek())) {
 *     pending.remove();
 * }
 * if (!packer.isEmpty()) {
 *     driver.launch(offer.getId(), packer.tasks());
 * }   // the rest of the offer is declined by the client (see declineUnusedOffers)
 * }</pre>
 *
 * <p>Not thread-safe: one packer per offer, used by one thread (normally inside {@link
 * Scheduler#offers}). Resource amounts are exact ({@link Resources} counts thousandths).
 */
public final class OfferPacker {

    private final Offer offer;
    private final String role;
    private Resources remaining;
    private final List<TaskInfo> tasks = new ArrayList<>();

    private OfferPacker(Offer offer) {
        this.offer = offer;
        this.role = offer.getResourcesCount() == 0 ? "" : offer.getResources(0).getAllocationInfo().getRole();
        this.remaining = Resources.fromProto(offer.getResourcesList());
    }

    /**
     * A packer for {@code offer}, with all of its resources (reserved ones included) left.
     *
     * @throws IllegalArgumentException when the offer's resources are malformed
     */
    public static OfferPacker of(Offer offer) {
        return new OfferPacker(Objects.requireNonNull(offer, "offer"));
    }

    /** The offer. */
    public Offer offer() {
        return offer;
    }

    /** The role the offer was made under (the {@code allocation_info.role} of its resources). */
    public String role() {
        return role;
    }

    /** What is left of the offer after the tasks added so far. */
    public Resources remaining() {
        return remaining;
    }

    /** Whether {@code needed} fits in what is left. */
    public boolean fits(Resources needed) {
        return remaining.contains(needed);
    }

    /**
     * Adds {@code task} if its resources fit in what is left. The task is completed on the way: its
     * {@code agent_id} is set to the offer's when empty, and each resource without {@code
     * allocation_info} gets the offer's role. A task that does not fit changes nothing.
     *
     * @return true when added; false when its resources do not fit in what is left
     * @throws IllegalArgumentException when the task's resources are malformed, or it names
     *     another agent than the offer's
     */
    public boolean add(TaskInfo task) {
        Objects.requireNonNull(task, "task");
        TaskInfo completed = complete(task);
        Resources needed = Resources.fromProto(completed.getResourcesList());
        if (!remaining.contains(needed)) {
            return false;
        }
        remaining = remaining.minus(needed);
        tasks.add(completed);
        return true;
    }

    /** The tasks added so far, completed, in order. */
    public List<TaskInfo> tasks() {
        return List.copyOf(tasks);
    }

    /** True when no task was added. */
    public boolean isEmpty() {
        return tasks.isEmpty();
    }

    private TaskInfo complete(TaskInfo task) {
        TaskInfo.Builder b = task.toBuilder();
        if (task.getAgentId().getValue().isEmpty()) {
            b.setAgentId(offer.getAgentId());
        } else if (!task.getAgentId().equals(offer.getAgentId())) {
            throw new IllegalArgumentException("task " + task.getTaskId().getValue() + " names agent "
                    + task.getAgentId().getValue() + " but offer " + offer.getId().getValue() + " is on agent "
                    + offer.getAgentId().getValue());
        }
        for (int i = 0; i < b.getResourcesCount(); i++) {
            Resource r = b.getResources(i);
            if (!r.hasAllocationInfo() && !role.isEmpty()) {
                b.setResources(i, r.toBuilder().setAllocationInfo(AllocationInfo.newBuilder().setRole(role)));
            }
        }
        return b.build();
    }

    @Override
    public String toString() {
        return "OfferPacker[" + offer.getId().getValue() + " on " + offer.getAgentId().getValue() + ", "
                + tasks.size() + " tasks, left " + remaining + "]";
    }
}
