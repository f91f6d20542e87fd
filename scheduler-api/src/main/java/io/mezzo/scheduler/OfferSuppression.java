package io.mezzo.scheduler;

import io.mezzo.proto.v1.FrameworkInfo;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which of the framework's roles the scheduler asked to suppress, so that the client can ask again
 * after every resubscription: a master that (re)subscribes a framework starts it unsuppressed, and
 * a new leader never heard of the SUPPRESS at all.
 *
 * <p><b>Thread.</b> Any: {@link Subscription} guards it with its own lock (a driver call updates it
 * and sends in one step; SUBSCRIBED reads it and publishes the session in one step), so no call is
 * lost between the two. <b>Owner:</b> the {@link Subscription}. Soft state: a restarted scheduler
 * process starts unsuppressed.
 *
 * <p>Only the framework's own roles are remembered ({@code FrameworkInfo.roles}, or {@code *} when
 * it names none): the master refuses others, and repeating a refused call after every
 * resubscription would only repeat the ERROR.
 */
final class OfferSuppression {

    private final List<String> frameworkRoles;
    private final Set<String> suppressed = new LinkedHashSet<>();

    OfferSuppression(FrameworkInfo info) {
        this.frameworkRoles = info.getRolesCount() == 0 ? List.of("*") : List.copyOf(info.getRolesList());
    }

    /** SUPPRESS of {@code roles}; none means all of the framework's roles. */
    void suppress(String... roles) {
        suppressed.addAll(roles.length == 0 ? frameworkRoles : known(roles));
    }

    /** REVIVE of {@code roles}; none means all of the framework's roles. */
    void revive(String... roles) {
        if (roles.length == 0) {
            suppressed.clear();
        } else {
            known(roles).forEach(suppressed::remove);
        }
    }

    /**
     * The roles of the SUPPRESS to send after a subscription: empty for all of the framework's
     * roles, null when nothing is suppressed (nothing to send).
     */
    List<String> toResend() {
        if (suppressed.isEmpty()) {
            return null;
        }
        if (suppressed.containsAll(frameworkRoles)) {
            return List.of();
        }
        return List.copyOf(suppressed);
    }

    private List<String> known(String... roles) {
        List<String> out = new ArrayList<>();
        for (String r : roles) {
            if (frameworkRoles.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }
}
