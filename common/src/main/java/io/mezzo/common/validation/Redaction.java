package io.mezzo.common.validation;

import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskInfo;

/**
 * Secrets out of views: task environment values (where frameworks pass credentials) and task data
 * are never returned by a state endpoint, master's or agent's. Names stay, so an operator sees
 * which variables a task has. Pure; any thread.
 */
public final class Redaction {

    /** What a redacted value reads as. */
    public static final String REDACTED = "(redacted)";

    private Redaction() {}

    /** {@code task} as a view may show it: environment values and task data replaced. */
    public static Task task(Task task) {
        if (!task.hasTaskInfo()) {
            return task;
        }
        return task.toBuilder().setTaskInfo(taskInfo(task.getTaskInfo())).build();
    }

    /** {@code info} with its command's and health check's environment values, and its data, replaced. */
    public static TaskInfo taskInfo(TaskInfo info) {
        TaskInfo.Builder b = info.toBuilder();
        if (info.hasCommand()) {
            b.setCommand(command(info.getCommand()));
        }
        if (info.hasHealthCheck() && info.getHealthCheck().hasCommand()) {
            b.getHealthCheckBuilder().setCommand(command(info.getHealthCheck().getCommand()));
        }
        if (!info.getData().isEmpty()) {
            b.setData(com.google.protobuf.ByteString.copyFromUtf8(REDACTED));
        }
        return b.build();
    }

    private static CommandInfo command(CommandInfo command) {
        if (command.getEnvironment().getVariablesCount() == 0) {
            return command;
        }
        Environment.Builder env = Environment.newBuilder();
        for (Environment.Variable v : command.getEnvironment().getVariablesList()) {
            env.addVariables(v.toBuilder().setValue(REDACTED));
        }
        return command.toBuilder().setEnvironment(env).build();
    }
}
