package io.mezzo.dist.cli;

import io.mezzo.proto.v1.AgentID;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.DrainAgentRequest;
import io.mezzo.proto.v1.DrainInfo;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.GetTasksRequest;
import io.mezzo.proto.v1.GetTasksResponse;
import io.mezzo.proto.v1.MarkAgentGoneRequest;
import io.mezzo.proto.v1.ReactivateAgentRequest;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mezzo agents}: the agents the leading master knows, one row each; and the {@code mezzo
 * agent show|drain|reactivate|gone AGENT} subcommands (nested here, registered under {@link
 * AgentCommand}). AGENT is an agent id, a prefix of one that names a single agent, or a hostname
 * that names a single agent.
 */
@Command(name = "agents", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Lists the agents: id, hostname, state, resources used of total, when they registered."})
final class AgentsCommand extends OperatorCommand {

    @Option(names = "--json", description = "Print the API's GetAgents answer as JSON (proto field names)."
            + " Default: a table.")
    boolean json;

    @Override
    void run(LeaderConnection leader, PrintStream out, Instant now) {
        List<AgentView> agents = leader.read(s -> s.getAgents(GetAgentsRequest.getDefaultInstance())).getAgentsList();
        if (json) {
            out.println(Render.json(io.mezzo.proto.v1.GetAgentsResponse.newBuilder().addAllAgents(agents)));
            return;
        }
        out.print(table(agents, now).render());
    }

    static Table table(List<AgentView> agents, Instant now) {
        ShortIds ids = new ShortIds(agents.stream().map(a -> a.getAgentInfo().getId().getValue()).toList());
        Table t = new Table("ID", "HOSTNAME", "STATE", "CPUS", "MEM", "DISK", "REGISTERED");
        for (AgentView a : agents) {
            List<Resource> total = a.getTotalResourcesList();
            t.row(ids.of(a.getAgentInfo().getId().getValue()), a.getAgentInfo().getHostname(), state(a),
                    Render.usedOfTotal("cpus", a.getUsedResourcesList(), total),
                    Render.usedOfTotal("mem", a.getUsedResourcesList(), total),
                    Render.usedOfTotal("disk", a.getUsedResourcesList(), total),
                    HumanUnits.relative(a.getRegisteredTime(), now));
        }
        return t;
    }

    /** The agent's state as a table shows it: {@code REGISTERED}, {@code DRAINING}, ... and whether its stream is down. */
    static String state(AgentView a) {
        String s = a.getState().name();
        boolean live = a.getState() == AgentView.State.REGISTERED || a.getState() == AgentView.State.DRAINING
                || a.getState() == AgentView.State.DRAINED;
        return live && !a.getConnected() ? s + " (disconnected)" : s;
    }

    /** The one agent that {@code typed} names: its id, a unique prefix of its id, or its unique hostname. */
    static AgentView resolve(LeaderConnection leader, String typed) {
        List<AgentView> agents = leader.read(s -> s.getAgents(GetAgentsRequest.getDefaultInstance())).getAgentsList();
        for (AgentView a : agents) {
            if (a.getAgentInfo().getId().getValue().equals(typed)) {
                return a;
            }
        }
        List<AgentView> byHost = agents.stream().filter(a -> a.getAgentInfo().getHostname().equals(typed)
                && a.getState() != AgentView.State.GONE).toList();
        if (byHost.size() == 1) {
            return byHost.get(0);
        }
        return ShortIds.resolve(typed, agents, a -> a.getAgentInfo().getId().getValue(), "agent");
    }

    /** {@code mezzo agent show AGENT}. */
    @Command(name = "show", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Shows one agent: state, addresses, drain, resources (total, used, offered), attributes and"
                    + " its tasks.")
    static final class Show extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "AGENT", description = "Agent id, unique id prefix, or hostname.")
        String agent;

        @Option(names = "--json", description = "Print the agent's AgentView as JSON (proto field names). Default: text.")
        boolean json;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            AgentView a = resolve(leader, agent);
            if (json) {
                out.println(Render.json(a));
                return;
            }
            String id = a.getAgentInfo().getId().getValue();
            out.println("ID:           " + id);
            out.println("Hostname:     " + a.getAgentInfo().getHostname());
            out.println("State:        " + state(a));
            out.println("Version:      " + a.getAgentInfo().getVersion());
            out.println("HTTP:         " + (a.getHttpAddress().isEmpty() ? "-" : a.getHttpAddress()));
            out.println("Registered:   " + HumanUnits.relative(a.getRegisteredTime(), now));
            if (a.getConnected()) {
                out.println("Connected:    " + HumanUnits.relative(a.getConnectedTime(), now));
            } else {
                out.println("Disconnected: " + HumanUnits.relative(a.getDisconnectedTime(), now));
            }
            if (a.getUnreachableTime() > 0) {
                out.println("Unreachable:  " + HumanUnits.relative(a.getUnreachableTime(), now));
            }
            if (a.hasDrainInfo()) {
                out.println("Drain:        " + drain(a.getDrainInfo(), now));
            }
            if (a.getAgentInfo().getAttributesCount() > 0) {
                out.println("Attributes:   " + a.getAgentInfo().getAttributesList().stream().map(AgentsCommand::attribute)
                        .collect(Collectors.joining(" ")));
            }
            out.println();
            Table resources = new Table("RESOURCE", "TOTAL", "USED", "OFFERED");
            Map<String, Long> total = Render.scalars(a.getTotalResourcesList());
            Map<String, Long> used = Render.scalars(a.getUsedResourcesList());
            Map<String, Long> offered = Render.scalars(a.getOfferedResourcesList());
            for (String name : total.keySet()) {
                resources.row(name, HumanUnits.format(name, total.get(name)),
                        HumanUnits.format(name, used.getOrDefault(name, 0L)),
                        HumanUnits.format(name, offered.getOrDefault(name, 0L)));
            }
            Map<String, String> ranges = new TreeMap<>();
            for (Resource r : a.getTotalResourcesList()) {
                if (r.getType() == Value.Type.RANGES) {
                    ranges.merge(r.getName(), r.getRanges().getRangeList().stream()
                            .map(x -> x.getBegin() + "-" + x.getEnd()).collect(Collectors.joining(",", "[", "]")),
                            (x, y) -> x + y);
                }
            }
            ranges.forEach((name, value) -> resources.row(name, value, "", ""));
            out.print(resources.render());
            GetTasksResponse tasks = leader.read(s -> s.getTasks(GetTasksRequest.newBuilder()
                    .setAgentId(a.getAgentInfo().getId()).build()));
            out.println();
            if (tasks.getTasksCount() == 0) {
                out.println("No live tasks.");
            } else {
                out.print(TasksCommand.table(tasks.getTasksList(), List.of(a), now).render());
            }
        }
    }

    /** {@code mezzo agent drain AGENT}. */
    @Command(name = "drain", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Drains an agent: no new offers, its offers rescinded, its tasks killed (each with its kill"
                    + " grace period, capped by --max-grace-period); DRAINED once empty, then gone with --mark-gone."
                    + " Durable: survives a master failover and an agent restart. Returns once the drain is recorded;"
                    + " watch it with `mezzo agent show`. Draining a draining agent again is harmless (and is retried"
                    + " on a new leader after a failover)."})
    static final class Drain extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "AGENT", description = "Agent id, unique id prefix, or hostname.")
        String agent;

        @Option(names = "--max-grace-period", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "The longest SIGTERM-to-SIGKILL grace period any task gets, e.g. 30s or 0s."
                        + " Default: each task's own.")
        Duration maxGracePeriod;

        @Option(names = "--mark-gone", description = "Mark the agent gone once drained (for a host that is leaving"
                + " for good). Default: off.")
        boolean markGone;

        @Override
        void validate() {
            if (maxGracePeriod != null && maxGracePeriod.isNegative()) {
                throw new IllegalArgumentException("--max-grace-period must not be negative");
            }
        }

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            AgentView a = resolve(leader, agent);
            DrainAgentRequest.Builder request = DrainAgentRequest.newBuilder().setAgentId(a.getAgentInfo().getId())
                    .setMarkGone(markGone);
            if (maxGracePeriod != null) {
                request.setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(maxGracePeriod.toNanos()));
            }
            leader.change(s -> s.drainAgent(request.build()), LeaderConnection.Retry.IDEMPOTENT);
            out.println("agent " + a.getAgentInfo().getId().getValue() + " (" + a.getAgentInfo().getHostname()
                    + ") is draining" + (markGone ? "; it will be marked gone once drained" : ""));
        }
    }

    /** {@code mezzo agent reactivate AGENT}. */
    @Command(name = "reactivate", mixinStandardHelpOptions = true,
            description = "Ends the drain of a draining or drained agent: it is offered again.")
    static final class Reactivate extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "AGENT", description = "Agent id, unique id prefix, or hostname.")
        String agent;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            AgentView a = resolve(leader, agent);
            leader.change(s -> s.reactivateAgent(ReactivateAgentRequest.newBuilder()
                    .setAgentId(a.getAgentInfo().getId()).build()), LeaderConnection.Retry.IF_NOT_DELIVERED);
            out.println("agent " + a.getAgentInfo().getId().getValue() + " (" + a.getAgentInfo().getHostname()
                    + ") is active again");
        }
    }

    /** {@code mezzo agent gone AGENT}. */
    @Command(name = "gone", mixinStandardHelpOptions = true,
            description = "Marks an agent gone for good: its tasks are gone, and if it comes back it is told to shut down"
                    + " (restart it with --recover=cleanup under a new id). For decommissioned or dead hosts.")
    static final class Gone extends OperatorCommand {

        @Parameters(index = "0", paramLabel = "AGENT", description = "Agent id, unique id prefix, or hostname.")
        String agent;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            AgentView a = resolve(leader, agent);
            AgentID id = a.getAgentInfo().getId();
            leader.change(s -> s.markAgentGone(MarkAgentGoneRequest.newBuilder().setAgentId(id).build()),
                    LeaderConnection.Retry.IF_NOT_DELIVERED);
            out.println("agent " + id.getValue() + " (" + a.getAgentInfo().getHostname() + ") is gone");
        }
    }

    static String drain(DrainInfo d, Instant now) {
        String state = Render.state(d.getState(), "DRAIN_STATE_");
        String grace = d.getConfig().hasMaxGracePeriod()
                ? ", max grace period " + HumanUnits.duration(Duration.ofNanos(d.getConfig().getMaxGracePeriod()
                        .getNanoseconds()))
                : "";
        return state + " since " + HumanUnits.relative(d.getStartedTime(), now) + grace
                + (d.getConfig().getMarkGone() ? ", then marked gone" : "");
    }

    private static String attribute(Attribute a) {
        String value = switch (a.getType()) {
            case SCALAR -> HumanUnits.decimal(a.getScalar().getMilli());
            case TEXT -> a.getText().getValue();
            case SET -> String.join(",", a.getSet().getItemList());
            case RANGES -> a.getRanges().getRangeList().stream().map(x -> x.getBegin() + "-" + x.getEnd())
                    .collect(Collectors.joining(","));
            default -> "";
        };
        return a.getName() + ":" + value;
    }
}
