package io.mezzo.dist.cli;

import io.mezzo.common.task.TaskStates;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.FrameworkID;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.GetTasksRequest;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.Task;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mezzo task}: tools for one task. */
@Command(name = "task", mixinStandardHelpOptions = true, description = "Tools for one task.",
        subcommands = {TaskCommand.Log.class, TaskCommand.Show.class, TaskCommand.Kill.class})
final class TaskCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * {@code mezzo task log TASK_ID}: the task's stdout (or stderr) from its sandbox, read through
     * the agent's files API; the agent is found through the leading master. With {@code -f} it
     * follows the file like {@code tail -f} until the task has ended and its last output is printed.
     */
    @Command(name = "log", mixinStandardHelpOptions = true,
            description = {"Prints a task's output (its sandbox's stdout, or stderr), found through the master; with -f"
                    + " follows it like tail -f until the task ends. Exit 1 also when its agent or its sandbox cannot"
                    + " be found or read."})
    static final class Log implements Callable<Integer> {

        /** Bytes asked of the agent per read. */
        static final int CHUNK = 256 * 1024;
        /** How often a follower looks for new output. */
        static final long POLL_MILLIS = 500;

        @Mixin
        MasterOptions masterOptions;

        @Parameters(index = "0", paramLabel = "TASK_ID", description = "The task.")
        String taskId;

        @Option(names = "--framework", paramLabel = "ID", description = "The task's framework, when task ids repeat. Default: the one framework with that task.")
        String framework;

        @Option(names = "--stderr", description = "Print stderr instead of stdout. Default: stdout.")
        boolean stderr;

        @Option(names = {"-f", "--follow"}, description = "Keep printing new output until the task has ended. Default: print and exit.")
        boolean follow;

        @Option(names = "--tail", paramLabel = "N", defaultValue = "-1",
                description = "Start with the last N lines only. Default: the whole file.")
        int tail;

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            try (LeaderConnection leader = masterOptions.connect()) {
                Task task = find(leader);
                if (task == null) {
                    return 1;
                }
                String agentHttp = agentHttp(leader, task);
                if (agentHttp == null) {
                    return 1;
                }
                String frameworkId = task.getFrameworkId().getValue();
                HttpResponse<String> sandbox = get(leader, agentHttp + "/files/sandbox?task=" + q(taskId) + "&framework="
                        + q(frameworkId), HttpResponse.BodyHandlers.ofString());
                if (sandbox.statusCode() != 200) {
                    System.err.println("mezzo task log: " + sandbox.body().trim());
                    return 1;
                }
                String path = sandbox.body().replaceAll("(?s).*\"path\":\"([^\"]+)\".*", "$1").trim()
                        + (stderr ? "/stderr" : "/stdout");
                long offset = tail >= 0 ? tailOffset(leader, agentHttp, path, tail) : 0;
                boolean ended = TaskStates.isTerminal(task.getState());
                long lastCheck = System.nanoTime();
                while (true) {
                    HttpResponse<byte[]> chunk = get(leader, agentHttp + "/files/read?path=" + q(path) + "&offset=" + offset
                            + "&length=" + CHUNK, HttpResponse.BodyHandlers.ofByteArray());
                    if (chunk.statusCode() != 200) {
                        System.err.println("mezzo task log: " + new String(chunk.body(), StandardCharsets.UTF_8).trim());
                        return 1;
                    }
                    out.write(chunk.body());
                    out.flush();
                    offset += chunk.body().length;
                    if (chunk.body().length == CHUNK) {
                        continue;
                    }
                    if (!follow || ended) {
                        return 0;
                    }
                    Thread.sleep(POLL_MILLIS);
                    if (System.nanoTime() - lastCheck > 2_000_000_000L) {
                        lastCheck = System.nanoTime();
                        // Once the task has ended, one more read prints what it wrote last.
                        Task now = find(leader);
                        ended = now == null || TaskStates.isTerminal(now.getState());
                    }
                }
            }
        }

        /** The task, live or completed; null (and a message) when unknown or ambiguous. */
        private Task find(LeaderConnection leader) {
            GetTasksRequest.Builder request = GetTasksRequest.newBuilder();
            if (framework != null) {
                request.setFrameworkId(FrameworkID.newBuilder().setValue(framework));
            }
            GetTasksResponse tasks;
            try {
                tasks = leader.operator().getTasks(request.build());
            } catch (io.grpc.StatusRuntimeException e) {
                leader.refresh();
                tasks = leader.operator().getTasks(request.build());
            }
            List<Task> found = new ArrayList<>();
            for (List<Task> list : List.of(tasks.getTasksList(), tasks.getCompletedTasksList())) {
                for (Task t : list) {
                    if (t.getTaskId().getValue().equals(taskId)
                            && found.stream().noneMatch(f -> f.getFrameworkId().equals(t.getFrameworkId()))) {
                        found.add(t);
                    }
                }
            }
            if (found.isEmpty()) {
                System.err.println("mezzo task log: the master knows no task " + taskId
                        + (framework == null ? "" : " of framework " + framework));
                return null;
            }
            if (found.size() > 1) {
                System.err.println("mezzo task log: tasks named " + taskId + " run in several frameworks ("
                        + found.stream().map(t -> t.getFrameworkId().getValue()).toList() + "): add --framework");
                return null;
            }
            return found.get(0);
        }

        private static String agentHttp(LeaderConnection leader, Task task) {
            for (AgentView a : leader.operator().getAgents(GetAgentsRequest.getDefaultInstance()).getAgentsList()) {
                if (a.getAgentInfo().getId().equals(task.getAgentId())) {
                    if (a.getHttpAddress().isEmpty()) {
                        System.err.println("mezzo task log: agent " + task.getAgentId().getValue() + " of task "
                                + task.getTaskId().getValue() + " is not connected, or serves no HTTP");
                        return null;
                    }
                    return "http://" + a.getHttpAddress();
                }
            }
            System.err.println("mezzo task log: the master knows no agent " + task.getAgentId().getValue());
            return null;
        }

        /** Where the last {@code lines} lines of the file start. */
        private static long tailOffset(LeaderConnection leader, String agentHttp, String path, int lines) throws Exception {
            HttpResponse<byte[]> end = get(leader, agentHttp + "/files/read?path=" + q(path) + "&offset=-" + (1024 * 1024)
                    + "&length=" + (1024 * 1024), HttpResponse.BodyHandlers.ofByteArray());
            if (end.statusCode() != 200) {
                return 0;
            }
            long start = Long.parseLong(end.headers().firstValue("X-Mezzo-Offset").orElse("0"));
            byte[] b = end.body();
            int seen = 0;
            int i = b.length - 1;
            if (i >= 0 && b[i] == '\n') {
                i--;
            }
            for (; i >= 0; i--) {
                if (b[i] == '\n' && ++seen == lines) {
                    return start + i + 1;
                }
            }
            return lines == 0 ? start + b.length : start;
        }

        private static <T> HttpResponse<T> get(LeaderConnection leader, String url, HttpResponse.BodyHandler<T> body)
                throws Exception {
            return leader.http().send(HttpRequest.newBuilder(URI.create(url)).build(), body);
        }

        private static String q(String v) {
            return URLEncoder.encode(v, StandardCharsets.UTF_8);
        }
    }

    /**
     * The one task, live or recently completed, that {@code typed} names (its id, or a unique prefix
     * of it), within {@code framework} when given.
     *
     * @throws CliFailure ({@link ExitCodes#REFUSED}) when none or several match
     */
    static Task resolve(LeaderConnection leader, String typed, String framework) {
        GetTasksRequest.Builder request = GetTasksRequest.newBuilder();
        if (framework != null) {
            request.setFrameworkId(FrameworksCommand.resolve(leader, framework).getFrameworkInfo().getId());
        }
        GetTasksResponse r = leader.read(s -> s.getTasks(request.build()));
        List<Task> all = new ArrayList<>(r.getTasksList());
        all.addAll(r.getCompletedTasksList());
        List<Task> exact = all.stream().filter(t -> t.getTaskId().getValue().equals(typed)).toList();
        List<Task> candidates = exact.isEmpty() ? all : exact;
        // The same task id may be live in one framework and completed (an older run) in another.
        java.util.Map<String, Task> byKey = new java.util.LinkedHashMap<>();
        for (Task t : candidates) {
            byKey.putIfAbsent(t.getFrameworkId().getValue() + "/" + t.getTaskId().getValue(), t);
        }
        if (!exact.isEmpty()) {
            if (byKey.size() > 1) {
                throw new CliFailure(ExitCodes.REFUSED, "tasks named " + typed + " exist in several frameworks ("
                        + byKey.values().stream().map(t -> t.getFrameworkId().getValue()).toList() + "): add --framework");
            }
            return byKey.values().iterator().next();
        }
        return ShortIds.resolve(typed, List.copyOf(byKey.values()), t -> t.getTaskId().getValue(), "task");
    }

    /** {@code mezzo task show ID}. */
    @Command(name = "show", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Shows one task, live or recently completed: state, reason, agent, resources, command.")
    static final class Show extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "Task id or unique id prefix.")
        String taskId;

        @Option(names = "--framework", paramLabel = "ID", description = "The task's framework, when task ids repeat."
                + " Default: the one framework with that task.")
        String framework;

        @Option(names = "--json", description = "Print the task (the API's Task) as JSON (proto field names)."
                + " Default: text.")
        boolean json;

        @Override
        void run(LeaderConnection leader, PrintStream out, java.time.Instant now) {
            Task t = resolve(leader, taskId, framework);
            if (json) {
                out.println(Render.json(t));
                return;
            }
            io.mezzo.proto.v1.TaskStatus s = t.getLatestStatus();
            String host = leader.read(x -> x.getAgents(GetAgentsRequest.getDefaultInstance())).getAgentsList().stream()
                    .filter(a -> a.getAgentInfo().getId().equals(t.getAgentId())).map(a -> " (" + a.getAgentInfo()
                            .getHostname() + ")").findFirst().orElse("");
            out.println("ID:         " + t.getTaskId().getValue());
            out.println("Name:       " + t.getName());
            out.println("Framework:  " + t.getFrameworkId().getValue());
            out.println("Agent:      " + t.getAgentId().getValue() + host);
            out.println("State:      " + t.getState() + " (" + HumanUnits.relative(s.getTimestamp(), now) + ")");
            if (s.getReason().getNumber() != 0) {
                out.println("Reason:     " + s.getReason());
            }
            if (!s.getMessage().isEmpty()) {
                out.println("Message:    " + s.getMessage());
            }
            if (s.hasExitCode()) {
                out.println("Exit code:  " + s.getExitCode());
            }
            out.println("Resources:  " + Render.amounts(t.getResourcesList()));
            if (t.hasTaskInfo() && t.getTaskInfo().hasCommand()) {
                io.mezzo.proto.v1.CommandInfo c = t.getTaskInfo().getCommand();
                out.println("Command:    " + (c.getShell().isEmpty() ? String.join(" ", c.getArgvList()) : c.getShell()));
            }
        }
    }

    /** {@code mezzo task kill ID}. */
    @Command(name = "kill", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Kills a task as an operator: the kill goes to its agent and the framework gets TASK_KILLED"
                    + " (reason REASON_KILLED_BY_OPERATOR). Returns once the kill is sent; killing twice is harmless"
                    + " (and is retried on a new leader after a failover).")
    static final class Kill extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "Task id or unique id prefix.")
        String taskId;

        @Option(names = "--framework", paramLabel = "ID", description = "The task's framework, when task ids repeat."
                + " Default: the one framework with that task.")
        String framework;

        @Override
        void run(LeaderConnection leader, PrintStream out, java.time.Instant now) {
            Task t = resolve(leader, taskId, framework);
            if (TaskStates.isTerminal(t.getState())) {
                throw new CliFailure(ExitCodes.REFUSED, "task " + t.getTaskId().getValue() + " has already ended ("
                        + t.getState() + ")");
            }
            leader.change(s -> s.killTask(io.mezzo.proto.v1.KillTaskRequest.newBuilder()
                    .setFrameworkId(t.getFrameworkId()).setTaskId(t.getTaskId()).build()),
                    LeaderConnection.Retry.IDEMPOTENT);
            out.println("kill sent to task " + t.getTaskId().getValue() + " of framework " + t.getFrameworkId().getValue());
        }
    }
}
