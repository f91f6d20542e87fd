package io.mezzo.agent;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.validation.Ids;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.MasterMessage;
import io.mezzo.proto.v1.TaskInfo;

/**
 * Re-checks a RUN_TASK at the agent's edge. The master validates tasks already; the agent checks again
 * what would hurt it: ids that become path segments, a command it cannot run, malformed resources.
 *
 * <p>Pure; any thread (called on the agent's loop).
 */
final class RunTaskValidation {

    private RunTaskValidation() {}

    /** Returns null when the task can be launched here, else one sentence saying what is wrong. */
    static String validate(MasterMessage.RunTask run, AgentId self) {
        if (!run.hasTask()) {
            return "RUN_TASK carries no task";
        }
        TaskInfo task = run.getTask();
        // The agent id comes from the master too, and becomes a path segment as well.
        // The one id rule the master applies too (common's Ids), so both agree on every id.
        String error = Ids.validate("agent id", self.value());
        if (error == null) {
            error = Ids.validate("framework id", run.getFramework().getId().getValue());
        }
        if (error == null) {
            error = Ids.validate("task id", task.getTaskId().getValue());
        }
        if (error != null) {
            return error;
        }
        if (task.hasAgentId() && !task.getAgentId().getValue().isEmpty()
                && !task.getAgentId().getValue().equals(self.value())) {
            return "task is for agent " + task.getAgentId().getValue() + ", not this agent " + self;
        }
        if (!task.hasCommand()) {
            return "task has no command";
        }
        CommandInfo command = task.getCommand();
        boolean shell = !command.getShell().isEmpty();
        boolean argv = command.getArgvCount() > 0;
        if (shell == argv) {
            return "command must set exactly one of shell and argv";
        }
        if (argv && command.getArgv(0).isEmpty()) {
            return "command argv[0] is empty";
        }
        for (Environment.Variable v : command.getEnvironment().getVariablesList()) {
            if (v.getName().isEmpty() || v.getName().indexOf('=') >= 0 || v.getName().indexOf('\0') >= 0) {
                return "environment variable name '" + v.getName() + "' is empty or contains '=' or NUL";
            }
            if (v.getValue().indexOf('\0') >= 0) {
                return "environment variable '" + v.getName() + "' contains NUL";
            }
        }
        String resources = ResourceValidation.validate(task.getResourcesList());
        if (resources != null) {
            return resources;
        }
        if (task.hasKillPolicy() && task.getKillPolicy().getGracePeriod().getNanoseconds() < 0) {
            return "kill policy grace period is negative";
        }
        return null;
    }
}
