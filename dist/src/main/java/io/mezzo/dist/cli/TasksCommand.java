package io.mezzo.dist.cli;

import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.GetTasksRequest;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.Task;
import io.mezzo.proto.v1.TaskState;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mezzo tasks}: the live (and with {@code --all} recently completed) tasks, filtered. */
@Command(name = "tasks", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Lists tasks: id, name, framework, agent, state, resources, when their state last changed."
                + " Live tasks only, unless --all.")
final class TasksCommand extends OperatorCommand {

    @Option(names = "--framework", paramLabel = "ID", description = "Only this framework's tasks (id or unique prefix)."
            + " Default: all frameworks.")
    String framework;

    @Option(names = "--agent", paramLabel = "AGENT", description = "Only tasks on this agent (id, unique prefix or"
            + " hostname). Default: all agents.")
    String agent;

    @Option(names = "--state", paramLabel = "STATE", converter = StateConverter.class,
            description = "Only tasks in this state, e.g. running or TASK_FAILED. Default: any state.")
    TaskState state;

    @Option(names = "--all", description = "Include recently completed tasks. Default: live tasks only.")
    boolean all;

    @Option(names = "--json", description = "Print the API's GetTasks answer as JSON (proto field names)."
            + " Default: a table.")
    boolean json;

    @Override
    void run(LeaderConnection leader, PrintStream out, Instant now) {
        GetTasksRequest.Builder request = GetTasksRequest.newBuilder();
        if (framework != null) {
            request.setFrameworkId(FrameworksCommand.resolve(leader, framework).getFrameworkInfo().getId());
        }
        List<AgentView> agents = leader.read(s -> s.getAgents(GetAgentsRequest.getDefaultInstance())).getAgentsList();
        if (agent != null) {
            request.setAgentId(AgentsCommand.resolve(leader, agent).getAgentInfo().getId());
        }
        if (state != null) {
            request.setState(state);
        }
        GetTasksResponse r = leader.read(s -> s.getTasks(request.build()));
        if (!all) {
            r = r.toBuilder().clearCompletedTasks().build();
        }
        if (json) {
            out.println(Render.json(r));
            return;
        }
        List<Task> tasks = new ArrayList<>(r.getTasksList());
        tasks.addAll(r.getCompletedTasksList());
        out.print(table(tasks, agents, now).render());
    }

    static Table table(List<Task> tasks, List<AgentView> agents, Instant now) {
        Map<String, String> hosts = new HashMap<>();
        agents.forEach(a -> hosts.put(a.getAgentInfo().getId().getValue(), a.getAgentInfo().getHostname()));
        ShortIds ids = new ShortIds(tasks.stream().map(t -> t.getTaskId().getValue()).toList());
        ShortIds frameworks = new ShortIds(tasks.stream().map(t -> t.getFrameworkId().getValue()).toList());
        Table t = new Table("ID", "NAME", "FRAMEWORK", "AGENT", "STATE", "CPUS", "MEM", "DISK", "UPDATED");
        for (Task task : tasks) {
            String agentId = task.getAgentId().getValue();
            t.row(ids.of(task.getTaskId().getValue()), task.getName(), frameworks.of(task.getFrameworkId().getValue()),
                    hosts.getOrDefault(agentId, agentId), Render.state(task.getState(), "TASK_"),
                    Render.amount("cpus", task.getResourcesList()), Render.amount("mem", task.getResourcesList()),
                    Render.amount("disk", task.getResourcesList()),
                    HumanUnits.relative(task.getLatestStatus().getTimestamp(), now));
        }
        return t;
    }

    /** Task states as people type them: {@code running}, {@code TASK_RUNNING}, {@code Running}. */
    static final class StateConverter implements CommandLine.ITypeConverter<TaskState> {
        @Override
        public TaskState convert(String value) {
            String name = value.trim().toUpperCase(Locale.ROOT);
            if (!name.startsWith("TASK_")) {
                name = "TASK_" + name;
            }
            try {
                TaskState s = TaskState.valueOf(name);
                if (s != TaskState.UNRECOGNIZED && s.getNumber() != 0) {
                    return s;
                }
            } catch (IllegalArgumentException e) {
                // Said below.
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a task state; one of "
                    + Arrays.stream(TaskState.values()).filter(s -> s != TaskState.UNRECOGNIZED && s.getNumber() != 0)
                            .map(s -> s.name().substring(5).toLowerCase(Locale.ROOT)).toList());
        }
    }
}
