package io.mezzo.agent;

/**
 * Whether a task may run as the user it would run as: never as root unless the agent was started
 * with {@code --allow_root_tasks}. Without that flag an agent running as root refuses a task that
 * names root, that names no user at all (it would inherit the agent's root), and every task when
 * {@code --switch_user} is off ("do not switch users" never means "root because the agent is
 * root"). An agent that is not root cannot give a task more rights than its own: nothing to refuse.
 * The master-side ACL on which principal may run as which user is separate (docs/security.md).
 *
 * <p>Pure; any thread. Owner: {@link TaskLauncher}, which checks the name on the loop and the
 * looked-up uid (a user named otherwise with uid 0) on the worker.
 */
final class TaskUserPolicy {

    /** The flag that allows root tasks, for messages. */
    static final String FLAG = "--allow_root_tasks";

    private TaskUserPolicy() {}

    /**
     * Null when a task may run as {@code user} ("" when neither the command nor the framework names
     * one), else the reason for its TASK_ERROR.
     */
    static String check(boolean agentIsRoot, boolean switchUser, boolean allowRootTasks, String user) {
        if (!agentIsRoot || allowRootTasks) {
            return null;
        }
        if (!switchUser) {
            return "the task would run as root: the agent runs as root with --switch_user=false, and runs tasks as"
                    + " root only with " + FLAG;
        }
        if (user.isEmpty()) {
            return "the task names no user (CommandInfo.user or FrameworkInfo.user) and would run as root, which"
                    + " the agent allows only with " + FLAG;
        }
        if (user.equals("root")) {
            return "the task asks to run as root, which the agent allows only with " + FLAG;
        }
        return null;
    }

    /** Null when a looked-up uid may run a task, else the reason (a non-root name with uid 0). */
    static String checkUid(boolean allowRootTasks, String user, int uid) {
        if (uid != 0 || allowRootTasks) {
            return null;
        }
        return "user '" + user + "' has uid 0 (root), which the agent allows only with " + FLAG;
    }
}
