package io.mezzo.agent.containerizer;

import io.mezzo.common.id.AgentId;
import io.mezzo.common.id.ContainerId;
import io.mezzo.common.id.FrameworkId;
import io.mezzo.common.resources.RangeSet;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.proto.v1.Value;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a command task's environment. Later entries override earlier ones:
 *
 * <ol>
 *   <li>{@code PATH}, {@code LANG}, {@code TZ} from the agent's own environment (nothing else of it
 *       leaks into tasks; {@code PATH} defaults to {@value #DEFAULT_PATH});
 *   <li>{@code MEZZO_TASK_ID}, {@code MEZZO_FRAMEWORK_ID}, {@code MEZZO_AGENT_ID}, {@code
 *       MEZZO_EXECUTOR_ID} (the task id: command tasks are their own executor), {@code
 *       MEZZO_CONTAINER_ID}, {@code MEZZO_SANDBOX}, and {@code MEZZO_TASK_DATA} (base64 of {@code
 *       TaskInfo.data}, only when set);
 *   <li>{@code PORTS} (the task's port ranges, comma separated, a single port written alone: {@code
 *       31000-31002,31005}) and {@code PORT0}, {@code PORT1}, ... (each port, ascending);
 *   <li>{@code CommandInfo.environment}, in order.
 * </ol>
 *
 * <p>Pure; any thread. Public only so that the agent's other packages can use it.
 */
public final class TaskEnvironment {

    /** The variable naming the container; processes that still carry it belong to the container. */
    public static final String CONTAINER_ID = "MEZZO_CONTAINER_ID";

    /** PATH given to tasks when the agent has none. */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private TaskEnvironment() {}

    /** The environment of one run of {@code task}. */
    public static Map<String, String> build(
            Map<String, String> agentEnvironment,
            AgentId agent,
            FrameworkId framework,
            TaskInfo task,
            ContainerId container,
            Path sandbox) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", agentEnvironment.getOrDefault("PATH", DEFAULT_PATH));
        for (String name : new String[] {"LANG", "TZ"}) {
            String value = agentEnvironment.get(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        String taskId = task.getTaskId().getValue();
        env.put("MEZZO_TASK_ID", taskId);
        env.put("MEZZO_FRAMEWORK_ID", framework.value());
        env.put("MEZZO_AGENT_ID", agent.value());
        env.put("MEZZO_EXECUTOR_ID", taskId);
        env.put(CONTAINER_ID, container.value());
        env.put("MEZZO_SANDBOX", sandbox.toString());
        if (!task.getData().isEmpty()) {
            env.put("MEZZO_TASK_DATA", Base64.getEncoder().encodeToString(task.getData().toByteArray()));
        }
        RangeSet ports = ports(task.getResourcesList());
        if (!ports.isEmpty()) {
            env.put("PORTS", portsText(ports));
            int i = 0;
            for (long port : eachPort(ports)) {
                env.put("PORT" + i++, Long.toString(port));
            }
        }
        for (Environment.Variable v : task.getCommand().getEnvironment().getVariablesList()) {
            env.put(v.getName(), v.getValue());
        }
        return env;
    }

    /** The union of the task's {@code ports} resources, whatever their reservation. */
    static RangeSet ports(List<Resource> resources) {
        RangeSet ports = RangeSet.EMPTY;
        for (Resource r : resources) {
            if (r.getName().equals(Resources.PORTS) && r.getType() == Value.Type.RANGES) {
                ports = ports.plus(RangeSet.fromProto(r.getRanges()));
            }
        }
        return ports;
    }

    private static String portsText(RangeSet ports) {
        StringBuilder sb = new StringBuilder();
        for (Value.Range r : ports.toProto().getRangeList()) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(r.getBegin());
            if (r.getEnd() != r.getBegin()) {
                sb.append('-').append(r.getEnd());
            }
        }
        return sb.toString();
    }

    private static List<Long> eachPort(RangeSet ports) {
        List<Long> out = new ArrayList<>();
        for (Value.Range r : ports.toProto().getRangeList()) {
            for (long p = r.getBegin(); p <= r.getEnd(); p++) {
                out.add(p);
            }
        }
        return out;
    }
}
