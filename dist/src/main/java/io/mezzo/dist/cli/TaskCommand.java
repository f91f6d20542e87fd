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
        subcommands = {TaskCommand.Log.class})
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
                    + " follows it like tail -f until the task ends.",
                    "Exit codes: 0 printed; 1 the task, its agent or its sandbox cannot be found or read; 2 bad usage."})
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
}
