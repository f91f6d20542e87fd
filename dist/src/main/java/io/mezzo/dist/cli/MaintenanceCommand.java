package io.mezzo.dist.cli;

import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.DrainConfig;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.GetAgentsRequest;
import io.mezzo.proto.v1.GetMaintenanceScheduleRequest;
import io.mezzo.proto.v1.GetMaintenanceScheduleResponse;
import io.mezzo.proto.v1.MaintenanceWindow;
import io.mezzo.proto.v1.UpdateMaintenanceScheduleRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mezzo maintenance schedule|status|clear}: maintenance windows, each draining a set of
 * agents at a time (frameworks are told at once). The API takes the whole schedule at a time, so
 * {@code schedule} reads it, adds a window and writes it back.
 */
@Command(name = "maintenance", mixinStandardHelpOptions = true,
        description = "Schedules agents' drains ahead of time, and shows what is scheduled and draining.",
        subcommands = {MaintenanceCommand.Schedule.class, MaintenanceCommand.Status.class, MaintenanceCommand.Clear.class})
final class MaintenanceCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code mezzo maintenance schedule}. */
    @Command(name = "schedule", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Adds a maintenance window: its agents start draining at --start (see `mezzo agent drain`),"
                    + " and frameworks are told now so they can move work first. The agents stay drained until"
                    + " `mezzo agent reactivate`. Windows already scheduled are kept.",
                "Not safe against a concurrent `maintenance schedule` from elsewhere: the last writer wins."})
    static final class Schedule extends OperatorCommand {

        @Option(names = "--agents", paramLabel = "AGENT[,AGENT...]", required = true, split = ",",
                description = "The agents (ids, unique prefixes or hostnames). Required.")
        List<String> agents;

        @Option(names = "--start", paramLabel = "TIME", required = true,
                description = "When they start draining: now, +30m, 2026-12-03T18:00:00Z, or 2026-12-03T18:00 in"
                        + " local time. Required.")
        String start;

        @Option(names = "--max-grace-period", paramLabel = "DURATION", converter = DurationConverter.class,
                description = "The longest kill grace period of their tasks. Default: each task's own.")
        Duration maxGracePeriod;

        @Option(names = "--mark-gone", description = "Mark them gone once drained. Default: off.")
        boolean markGone;

        private Instant startTime;

        @Override
        void validate() {
            startTime = HumanUnits.parseTime(start, Instant.now(), ZoneId.systemDefault());
            if (maxGracePeriod != null && maxGracePeriod.isNegative()) {
                throw new IllegalArgumentException("--max-grace-period must not be negative");
            }
        }

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            MaintenanceWindow.Builder w = MaintenanceWindow.newBuilder()
                    .setStartTime(startTime.toEpochMilli() / 1000.0);
            List<String> names = new ArrayList<>();
            for (String typed : agents) {
                AgentView a = AgentsCommand.resolve(leader, typed);
                w.addAgentIds(a.getAgentInfo().getId());
                names.add(a.getAgentInfo().getId().getValue() + " (" + a.getAgentInfo().getHostname() + ")");
            }
            DrainConfig.Builder drain = DrainConfig.newBuilder().setMarkGone(markGone);
            if (maxGracePeriod != null) {
                drain.setMaxGracePeriod(DurationInfo.newBuilder().setNanoseconds(maxGracePeriod.toNanos()));
            }
            w.setDrainConfig(drain);
            GetMaintenanceScheduleResponse current = leader.read(s -> s.getMaintenanceSchedule(
                    GetMaintenanceScheduleRequest.getDefaultInstance()));
            UpdateMaintenanceScheduleRequest update = UpdateMaintenanceScheduleRequest.newBuilder()
                    .addAllWindows(current.getWindowsList()).addWindows(w).build();
            // The whole schedule is written: writing it twice leaves the same schedule.
            leader.change(s -> s.updateMaintenanceSchedule(update), LeaderConnection.Retry.IDEMPOTENT);
            out.println("maintenance at " + startTime + " (" + HumanUnits.relative(startTime.toEpochMilli() / 1000.0, now)
                    + "): " + String.join(", ", names));
        }
    }

    /** {@code mezzo maintenance status}. */
    @Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Shows the windows not yet started, and the agents draining or drained now.")
    static final class Status extends OperatorCommand {

        @Option(names = "--json", description = "Print the API's GetMaintenanceSchedule answer as JSON (proto field"
                + " names). Default: tables.")
        boolean json;

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            GetMaintenanceScheduleResponse r = leader.read(s -> s.getMaintenanceSchedule(
                    GetMaintenanceScheduleRequest.getDefaultInstance()));
            if (json) {
                out.println(Render.json(r));
                return;
            }
            List<AgentView> agents = leader.read(s -> s.getAgents(GetAgentsRequest.getDefaultInstance())).getAgentsList();
            Map<String, String> hosts = new HashMap<>();
            agents.forEach(a -> hosts.put(a.getAgentInfo().getId().getValue(), a.getAgentInfo().getHostname()));
            if (r.getWindowsCount() == 0) {
                out.println("No maintenance scheduled.");
            } else {
                Table t = new Table("START", "WHEN", "AGENTS", "MAX GRACE", "MARK GONE");
                for (MaintenanceWindow w : r.getWindowsList()) {
                    t.row(Instant.ofEpochMilli(Math.round(w.getStartTime() * 1000)), HumanUnits.relative(w.getStartTime(), now),
                            w.getAgentIdsList().stream().map(id -> hosts.getOrDefault(id.getValue(), id.getValue()))
                                    .collect(Collectors.joining(",")),
                            w.getDrainConfig().hasMaxGracePeriod() ? HumanUnits.duration(Duration.ofNanos(
                                    w.getDrainConfig().getMaxGracePeriod().getNanoseconds())) : "-",
                            w.getDrainConfig().getMarkGone() ? "yes" : "no");
                }
                out.print(t.render());
            }
            List<AgentView> draining = agents.stream().filter(AgentView::hasDrainInfo).toList();
            out.println();
            if (draining.isEmpty()) {
                out.println("No agent is draining.");
            } else {
                ShortIds ids = new ShortIds(draining.stream().map(a -> a.getAgentInfo().getId().getValue()).toList());
                Table t = new Table("AGENT", "HOSTNAME", "DRAIN");
                for (AgentView a : draining) {
                    t.row(ids.of(a.getAgentInfo().getId().getValue()), a.getAgentInfo().getHostname(),
                            AgentsCommand.drain(a.getDrainInfo(), now));
                }
                out.print(t.render());
            }
        }
    }

    /** {@code mezzo maintenance clear}. */
    @Command(name = "clear", mixinStandardHelpOptions = true,
            description = "Removes every window not yet started (agents already draining keep draining: reactivate"
                    + " them).")
    static final class Clear extends OperatorCommand {

        @Override
        void run(LeaderConnection leader, PrintStream out, Instant now) {
            leader.change(s -> s.updateMaintenanceSchedule(UpdateMaintenanceScheduleRequest.getDefaultInstance()),
                    LeaderConnection.Retry.IDEMPOTENT);
            out.println("maintenance schedule cleared");
        }
    }
}
