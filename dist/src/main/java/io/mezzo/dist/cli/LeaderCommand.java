package io.mezzo.dist.cli;

import io.mezzo.proto.v1.GetHealthRequest;
import io.mezzo.proto.v1.GetHealthResponse;
import io.mezzo.proto.v1.MasterInfo;
import java.io.PrintStream;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mezzo leader}: which master leads, since when, at which epoch. */
@Command(name = "leader", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Shows the leading master: its addresses, version, epoch, when it was elected and started.")
final class LeaderCommand extends OperatorCommand {

    @Option(names = "--json", description = "Print the leader's GetHealth answer as JSON (proto field names)."
            + " Default: text.")
    boolean json;

    @Override
    void run(LeaderConnection leader, PrintStream out, Instant now) {
        GetHealthResponse h = leader.read(s -> s.getHealth(GetHealthRequest.getDefaultInstance()));
        if (json) {
            out.println(Render.json(h));
            return;
        }
        MasterInfo m = h.getMasterInfo();
        out.println("Leader:   " + m.getIp() + ":" + m.getPort() + " (" + m.getHostname() + ")");
        out.println("HTTP:     " + (m.getHttpPort() == 0 ? "-" : "http://" + m.getIp() + ":" + m.getHttpPort()));
        out.println("Id:       " + m.getId());
        out.println("Version:  " + m.getVersion());
        out.println("Epoch:    " + m.getEpoch());
        out.println("Elected:  " + HumanUnits.relative(m.getElectedTime(), now));
        out.println("Started:  " + HumanUnits.relative(m.getStartTime(), now));
        out.println("Healthy:  " + (h.getHealthy() ? "yes" : "no (" + h.getReason() + ")"));
    }
}
