package io.mezzo.dist.cli;

import io.mezzo.proto.v1.FrameworkView;
import io.mezzo.proto.v1.GetFrameworksRequest;
import io.mezzo.proto.v1.GetFrameworksResponse;
import io.mezzo.proto.v1.TeardownFrameworkRequest;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo frameworks}: the frameworks the leading master knows; and {@code mezzo framework
 * teardown ID} ({@link Framework}).
 */
@Command(name = "frameworks", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Lists the frameworks: id, name, state, roles, live tasks, resources used, when they registered.")
final class FrameworksCommand extends OperatorCommand {

    @Option(names = "--json", description = "Print the API's GetFrameworks answer as JSON (proto field names)."
            + " Default: a table.")
    boolean json;

    @Override
    void run(LeaderConnection leader, PrintStream out, Instant now) {
        GetFrameworksResponse r = leader.read(s -> s.getFrameworks(GetFrameworksRequest.getDefaultInstance()));
        if (json) {
            out.println(Render.json(r));
            return;
        }
        List<FrameworkView> frameworks = r.getFrameworksList();
        ShortIds ids = new ShortIds(frameworks.stream().map(f -> f.getFrameworkInfo().getId().getValue()).toList());
        Table t = new Table("ID", "NAME", "STATE", "ROLES", "TASKS", "CPUS", "MEM", "DISK", "REGISTERED");
        for (FrameworkView f : frameworks) {
            t.row(ids.of(f.getFrameworkInfo().getId().getValue()), f.getFrameworkInfo().getName(),
                    f.getState().name() + (f.getSuppressed() ? " (suppressed)" : ""),
                    f.getFrameworkInfo().getRolesCount() == 0 ? "*" : String.join(",", f.getFrameworkInfo().getRolesList()),
                    f.getActiveTasks(), Render.amount("cpus", f.getUsedResourcesList()),
                    Render.amount("mem", f.getUsedResourcesList()), Render.amount("disk", f.getUsedResourcesList()),
                    HumanUnits.relative(f.getRegisteredTime(), now));
        }
        out.print(t.render());
    }

    /** The one framework {@code typed} names: its id or a unique prefix of it. */
    static FrameworkView resolve(LeaderConnection leader, String typed) {
        List<FrameworkView> all = leader.read(s -> s.getFrameworks(GetFrameworksRequest.getDefaultInstance()))
                .getFrameworksList();
        return ShortIds.resolve(typed, all, f -> f.getFrameworkInfo().getId().getValue(), "framework");
    }

    /** {@code mezzo framework}: tools for one framework. */
    @Command(name = "framework", mixinStandardHelpOptions = true, description = "Tools for one framework.",
            subcommands = {Teardown.class})
    static final class Framework implements Runnable {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(System.out);
        }
    }

    /** {@code mezzo framework teardown ID}. */
    @Command(name = "teardown", mixinStandardHelpOptions = true,
            description = "Tears a framework down as an operator: removed for good, its tasks killed, its offers"
                    + " rescinded. Returns once the removal is durable. Not repeated on a new leader after a timeout"
                    + " (the first call may have been applied): exit 3 then means the outcome is unknown.")
    static final class Teardown extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "ID", description = "Framework id or unique id prefix.")
        String framework;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            FrameworkView f = resolve(leader, framework);
            leader.change(s -> s.teardownFramework(TeardownFrameworkRequest.newBuilder()
                    .setFrameworkId(f.getFrameworkInfo().getId()).build()), LeaderConnection.Retry.IF_NOT_DELIVERED);
            out.println("framework " + f.getFrameworkInfo().getId().getValue() + " (" + f.getFrameworkInfo().getName()
                    + ") is torn down");
        }
    }
}
