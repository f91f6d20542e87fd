package io.mezzo.agent.link;

import io.mezzo.proto.v1.AgentMessage;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits an agent's REREGISTER report into parts no larger than a bound, so that an agent with many
 * tasks re-registers without ever sending one message over the master's {@code --max_message_size}
 * (4 MiB by default). Every part repeats {@code agent_info}; frameworks, tasks and unacknowledged
 * updates are spread over the parts in order; every part but the last sets {@code more}. The master
 * joins the parts back into one report before it acts on it (docs/api.md, "Limits").
 *
 * <pre>
 *  report{info, F1..Fn, T1..Tm, U1..Uk}  --split(bound)-->  part{info, F1..F3, more}
 *                                                          part{info, F4..Fn, T1..T900, more}
 *                                                          part{info, T901..Tm, U1..Uk}
 * </pre>
 *
 * <p>Pure: no state, any thread. Used by {@link MasterLink} on the agent's loop.
 */
final class ReportPages {

    /** The default bound of one part: a quarter of gRPC's default inbound limit, room to spare. */
    static final int DEFAULT_PART_BYTES = 1024 * 1024;

    private ReportPages() {}

    /**
     * The report as one part when it fits in {@code partBytes}, else as several parts that each do
     * (unless a single element is larger than the bound by itself: it then travels alone).
     */
    static List<AgentMessage.Reregister> split(AgentMessage.Reregister report, int partBytes) {
        if (report.getSerializedSize() <= partBytes) {
            return List.of(report);
        }
        List<AgentMessage.Reregister> parts = new ArrayList<>();
        AgentMessage.Reregister empty = AgentMessage.Reregister.newBuilder().setAgentInfo(report.getAgentInfo()).build();
        int base = empty.getSerializedSize() + 2; // room for the "more" flag
        AgentMessage.Reregister.Builder part = empty.toBuilder();
        int size = base;
        // Each element costs its bytes plus a tag and a length prefix (at most 1 + 5 bytes).
        for (var f : report.getFrameworksList()) {
            int cost = f.getSerializedSize() + 6;
            if (size + cost > partBytes && size > base) {
                parts.add(part.setMore(true).build());
                part = empty.toBuilder();
                size = base;
            }
            part.addFrameworks(f);
            size += cost;
        }
        for (var t : report.getTasksList()) {
            int cost = t.getSerializedSize() + 6;
            if (size + cost > partBytes && size > base) {
                parts.add(part.setMore(true).build());
                part = empty.toBuilder();
                size = base;
            }
            part.addTasks(t);
            size += cost;
        }
        for (var u : report.getUnacknowledgedUpdatesList()) {
            int cost = u.getSerializedSize() + 6;
            if (size + cost > partBytes && size > base) {
                parts.add(part.setMore(true).build());
                part = empty.toBuilder();
                size = base;
            }
            part.addUnacknowledgedUpdates(u);
            size += cost;
        }
        parts.add(part.setMore(false).build());
        return parts;
    }
}
