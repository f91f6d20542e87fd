package io.mezzo.services;

import io.mezzo.proto.v1.CommandInfo;
import io.mezzo.proto.v1.CommandURI;
import io.mezzo.proto.v1.DurationInfo;
import io.mezzo.proto.v1.Environment;
import io.mezzo.proto.v1.HealthCheck;
import io.mezzo.proto.v1.KillPolicy;
import io.mezzo.proto.v1.Label;
import io.mezzo.proto.v1.Labels;
import io.mezzo.proto.v1.TaskID;
import io.mezzo.proto.v1.TaskInfo;
import io.mezzo.services.ServiceDefinition.HealthSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds the TaskInfo of an instance: its command with {@code PORT0..n} (and {@code PORT}) in the
 * environment, its resources and ports, the kill grace period and the health check run by the agent
 * on the instance's assigned port. Pure.
 */
final class InstanceTasks {

    private InstanceTasks() {}

    static TaskInfo task(ServiceDefinition def, Instance instance) {
        Map<String, String> env = new LinkedHashMap<>(def.env());
        for (int i = 0; i < instance.ports.size(); i++) {
            env.put("PORT" + i, Long.toString(instance.ports.get(i)));
        }
        if (!instance.ports.isEmpty()) {
            env.put("PORT", Long.toString(instance.ports.get(0)));
        }
        env.put("MEZZO_SERVICE", def.id());
        env.put("MEZZO_SERVICE_VERSION", Integer.toString(instance.version));
        env.put("MEZZO_INSTANCE", instance.id);
        Environment.Builder environment = Environment.newBuilder();
        env.forEach((k, v) -> environment.addVariables(Environment.Variable.newBuilder().setName(k).setValue(v)));
        CommandInfo.Builder command = CommandInfo.newBuilder().setEnvironment(environment);
        if (def.cmd() != null) {
            command.setShell(def.cmd());
        } else {
            command.addAllArgv(def.args());
        }
        for (String uri : def.fetch()) {
            command.addUris(CommandURI.newBuilder().setValue(uri).setExtract(true));
        }
        TaskInfo.Builder task = TaskInfo.newBuilder()
                .setName(def.id())
                .setTaskId(TaskID.newBuilder().setValue(instance.id))
                .addAllResources(Placement.resources(def, instance.ports).toProto())
                .setCommand(command)
                .setKillPolicy(KillPolicy.newBuilder().setGracePeriod(
                        DurationInfo.newBuilder().setNanoseconds(def.killGraceMillis() * 1_000_000L)))
                .setLabels(Labels.newBuilder()
                        .addLabels(Label.newBuilder().setKey("mezzo.service").setValue(def.id()))
                        .addLabels(Label.newBuilder().setKey("mezzo.service.version").setValue(Integer.toString(instance.version))));
        if (def.healthCheck() != null) {
            task.setHealthCheck(healthCheck(def.healthCheck(), instance));
        }
        return task.build();
    }

    private static HealthCheck healthCheck(HealthSpec h, Instance instance) {
        HealthCheck.Builder b = HealthCheck.newBuilder()
                .setDelaySeconds(h.delayMillis() / 1000.0)
                .setIntervalSeconds(h.intervalMillis() / 1000.0)
                .setTimeoutSeconds(h.timeoutMillis() / 1000.0)
                .setConsecutiveFailures(h.consecutiveFailures())
                // 0 would mean the agent's default (10 s); 1 ms is "none".
                .setGracePeriodSeconds(Math.max(h.gracePeriodMillis(), 1) / 1000.0);
        switch (h.type()) {
            case HTTP -> b.setType(HealthCheck.Type.HTTP).setHttp(HealthCheck.HTTPCheckInfo.newBuilder()
                    .setPort(instance.ports.get(h.portIndex()).intValue()).setPath(h.path()));
            case TCP -> b.setType(HealthCheck.Type.TCP).setTcp(HealthCheck.TCPCheckInfo.newBuilder()
                    .setPort(instance.ports.get(h.portIndex()).intValue()));
            case COMMAND -> b.setType(HealthCheck.Type.COMMAND).setCommand(CommandInfo.newBuilder().setShell(h.command()));
        }
        return b.build();
    }
}
