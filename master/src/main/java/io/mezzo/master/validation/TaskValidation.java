package io.mezzo.master.validation;

import io.mezzo.common.resources.ResourceBounds;
import io.mezzo.common.resources.ResourceValidation;
import io.mezzo.common.resources.Resources;
import io.mezzo.common.validation.Limits;
import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.CommandURI;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.HealthCheck;
import io.mezzo.proto.v1.TaskInfo;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * Pure, stateless checks of one TaskInfo in a LAUNCH operation: everything that can be judged
 * without the master's state. Returns null when valid, else one sentence naming the field.
 */
public final class TaskValidation {

    private TaskValidation() {}

    /** A task's verdict: the error (null when valid) and, when its resources were valid, those resources. */
    public record Checked(String error, Resources resources) {}

    /** Validates a task to be launched on {@code agentId}. */
    public static String validate(TaskInfo task, String agentId) {
        return check(task, agentId).error();
    }

    /**
     * Validates a task to be launched on {@code agentId} and hands back its resources, built once:
     * {@link AcceptValidation} needs them next, and building them again per task was a visible part
     * of the master loop's cost per launch under load.
     */
    public static Checked check(TaskInfo task, String agentId) {
        Resources[] built = new Resources[1];
        String error = validate(task, agentId, built);
        return new Checked(error, built[0]);
    }

    private static String validate(TaskInfo task, String agentId, Resources[] built) {
        String id = task.getTaskId().getValue();
        if (!task.hasTaskId() || id.isEmpty()) {
            return "task has no task_id";
        }
        if (!IdValidation.isValid(id)) {
            return IdValidation.validate("task_id", id);
        }
        if (task.getName().isEmpty()) {
            return "task " + id + " has no name";
        }
        String limitError = Limits.length("name", task.getName(), Limits.NAME);
        if (limitError == null) {
            limitError = Limits.labels("labels", task.getLabels());
        }
        if (limitError != null) {
            return "task " + id + ": " + limitError;
        }
        if (!task.hasAgentId() || !task.getAgentId().getValue().equals(agentId)) {
            return "task " + id + " names agent '" + task.getAgentId().getValue()
                    + "' but the offers are for agent '" + agentId + "'";
        }
        String resourceError = ResourceValidation.validate(task.getResourcesList());
        if (resourceError != null) {
            return "task " + id + ": " + resourceError;
        }
        Resources resources = Resources.fromProto(task.getResourcesList());
        built[0] = resources;
        if (resources.scalar(Resources.CPUS) <= 0) {
            return "task " + id + " has no cpus";
        }
        if (resources.scalar(Resources.MEM) <= 0) {
            return "task " + id + " has no mem";
        }
        String boundsError = ResourceBounds.checkTask(resources);
        if (boundsError != null) {
            return "task " + id + " " + boundsError;
        }
        if (!task.hasCommand()) {
            return "task " + id + " has no command";
        }
        String commandError = validateCommand(task.getCommand());
        if (commandError != null) {
            return "task " + id + ": " + commandError;
        }
        if (task.hasKillPolicy() && task.getKillPolicy().getGracePeriod().getNanoseconds() < 0) {
            return "task " + id + ": kill_policy.grace_period is negative";
        }
        if (task.hasHealthCheck()) {
            String healthError = validateHealthCheck(task.getHealthCheck());
            if (healthError != null) {
                return "task " + id + ": " + healthError;
            }
        }
        return null;
    }

    /** Validates a command: exactly one of shell and argv, sane environment and URIs. */
    public static String validateCommand(CommandInfo command) {
        String limitError = commandLimits(command);
        if (limitError != null) {
            return limitError;
        }
        boolean hasShell = !command.getShell().isBlank();
        boolean hasArgv = command.getArgvCount() > 0;
        if (hasShell == hasArgv) {
            return hasShell
                    ? "command sets both shell and argv; set exactly one"
                    : "command is empty: set shell or argv";
        }
        if (hasArgv && command.getArgv(0).isBlank()) {
            return "command argv[0] is empty";
        }
        if (command.getShell().indexOf('\0') >= 0 || command.getArgvList().stream().anyMatch(a -> a.indexOf('\0') >= 0)) {
            return "command contains a NUL character";
        }
        for (Environment.Variable v : command.getEnvironment().getVariablesList()) {
            if (v.getName().isEmpty() || v.getName().indexOf('=') >= 0 || v.getName().indexOf('\0') >= 0) {
                return "environment variable name '" + Limits.shown(v.getName()) + "' is empty or contains '=' or NUL";
            }
            if (v.getValue().indexOf('\0') >= 0) {
                return "environment variable " + v.getName() + " contains a NUL character";
            }
        }
        for (CommandURI uri : command.getUrisList()) {
            try {
                URI parsed = new URI(uri.getValue());
                String scheme = parsed.getScheme();
                if (scheme == null || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("file"))) {
                    return "uri '" + Limits.shown(uri.getValue()) + "' must be http://, https:// or file://";
                }
            } catch (URISyntaxException e) {
                return "uri '" + Limits.shown(uri.getValue()) + "' is malformed: " + e.getReason();
            }
            if (uri.getOutputFile().contains("/") || uri.getOutputFile().equals("..")) {
                return "uri output_file '" + Limits.shown(uri.getOutputFile()) + "' must be a plain file name";
            }
        }
        return null;
    }

    /** The documented limits of a command's free-text fields ({@link Limits}). */
    private static String commandLimits(CommandInfo command) {
        long argvLength = 0;
        for (String arg : command.getArgvList()) {
            argvLength += arg.length();
        }
        if (command.getShell().length() > Limits.COMMAND || argvLength > Limits.COMMAND) {
            return "command has " + Math.max(command.getShell().length(), argvLength)
                    + " characters, more than the limit of " + Limits.COMMAND;
        }
        String error = Limits.length("command.user", command.getUser(), Limits.USER);
        if (error == null) {
            error = Limits.count("command.environment", command.getEnvironment().getVariablesCount(),
                    Limits.ENVIRONMENT_VARIABLES);
        }
        for (int i = 0; error == null && i < command.getEnvironment().getVariablesCount(); i++) {
            Environment.Variable v = command.getEnvironment().getVariables(i);
            if (v.getName().length() + v.getValue().length() > Limits.ENVIRONMENT_VARIABLE) {
                error = "environment variable " + Limits.shown(v.getName()) + " has "
                        + (v.getName().length() + v.getValue().length()) + " characters, more than the limit of "
                        + Limits.ENVIRONMENT_VARIABLE;
            }
        }
        if (error == null) {
            error = Limits.count("command.uris", command.getUrisCount(), Limits.URIS);
        }
        for (int i = 0; error == null && i < command.getUrisCount(); i++) {
            error = Limits.length("command.uris[" + i + "]", command.getUris(i).getValue(), Limits.URI);
            if (error == null) {
                error = Limits.length("command.uris[" + i + "].output_file", command.getUris(i).getOutputFile(), Limits.URI);
            }
        }
        return error;
    }

    private static String validateHealthCheck(HealthCheck check) {
        for (double v : new double[] {check.getDelaySeconds(), check.getIntervalSeconds(), check.getTimeoutSeconds(),
                check.getGracePeriodSeconds()}) {
            if (Double.isNaN(v) || Double.isInfinite(v) || v < 0) {
                return "health_check durations must be finite and non-negative";
            }
        }
        return switch (check.getType()) {
            case COMMAND -> check.hasCommand() ? validateCommand(check.getCommand()) : "COMMAND health_check has no command";
            case HTTP -> check.hasHttp() && check.getHttp().getPort() > 0 && check.getHttp().getPort() < 65536
                    ? null : "HTTP health_check needs http.port in 1-65535";
            case TCP -> check.hasTcp() && check.getTcp().getPort() > 0 && check.getTcp().getPort() < 65536
                    ? null : "TCP health_check needs tcp.port in 1-65535";
            default -> "health_check has no type (COMMAND, HTTP or TCP)";
        };
    }
}
