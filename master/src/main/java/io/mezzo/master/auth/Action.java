package io.mezzo.master.auth;

/**
 * The actions an ACL file controls, each with the kind of object it is checked against. The JSON
 * key of each is its lower-case name (e.g. {@code "register_frameworks"}), and the object key of
 * its rules is {@link #objectKey()}.
 */
public enum Action {
    /** A framework subscribes with a role. Object: the role. */
    REGISTER_FRAMEWORKS("roles"),
    /** A framework launches a task that runs as a user (root included). Object: the user. */
    RUN_TASKS("users"),
    /** A framework reserves resources for a role (RESERVE). Object: the role. */
    RESERVE_RESOURCES("roles"),
    /** A framework unreserves resources (UNRESERVE). Object: the principal that reserved them. */
    UNRESERVE_RESOURCES("reserver_principals"),
    /** An operator sets a role's weight (UpdateWeights). Object: the role. */
    UPDATE_WEIGHTS("roles"),
    /** An operator sets a role's quota (UpdateQuota). Object: the role. */
    UPDATE_QUOTAS("roles"),
    /** An operator marks an agent gone (MarkAgentGone). Object: the agent id. */
    MARK_AGENTS_GONE("agents"),
    /** A process registers as an agent. Object: the agent's hostname. */
    REGISTER_AGENTS("agents"),
    /** An operator sees a framework (and its tasks, offers). Object: the framework's principal. */
    VIEW_FRAMEWORKS("framework_principals"),
    /** An operator sees an agent. Object: the agent's hostname. */
    VIEW_AGENTS("agents"),
    /**
     * An operator drains or reactivates an agent, or schedules it for maintenance (DrainAgent,
     * ReactivateAgent, UpdateMaintenanceSchedule). Object: the agent id.
     */
    DRAIN_AGENTS("agents"),
    /** An operator tears a framework down (TeardownFramework). Object: the framework's principal. */
    TEARDOWN_FRAMEWORKS("framework_principals"),
    /** An operator kills a task (KillTask). Object: the principal of the task's framework. */
    KILL_TASKS("framework_principals");

    private final String objectKey;

    Action(String objectKey) {
        this.objectKey = objectKey;
    }

    /** The JSON key of this action's objects in a rule. */
    public String objectKey() {
        return objectKey;
    }

    /** The JSON key of the action. */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
