package io.mezzo.services;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The JSON views of the API (list, one service, endpoints, deployments), built from the manager's
 * state. Pure: reads what it is given, changes nothing.
 *
 * <p>Thread: the manager's loop (the state it reads is the loop's). Owner: {@link ServiceManager}.
 */
final class ServiceViews {

    private ServiceViews() {}

    static ArrayNode list(Collection<ServiceState> services, Map<String, Deployment> deployments,
            Collection<Instance> instances) {
        ArrayNode out = DefinitionJson.MAPPER.createArrayNode();
        services.forEach(s -> out.add(summary(s, deployments, instances)));
        return out;
    }

    static ObjectNode service(ServiceState s, Map<String, Deployment> deployments, Collection<Instance> instances) {
        ObjectNode o = summary(s, deployments, instances);
        o.set("definition", DefinitionJson.write(s.def()));
        ArrayNode list = o.putArray("instanceList");
        instances.stream().filter(i -> i.service.equals(s.id)).forEach(i -> list.add(i.view()));
        ArrayNode versions = o.putArray("versions");
        s.versions.keySet().forEach(versions::add);
        return o;
    }

    static ObjectNode endpoints(String id, Collection<Instance> instances) {
        ObjectNode o = DefinitionJson.MAPPER.createObjectNode().put("service", id);
        ArrayNode list = o.putArray("endpoints");
        instances.stream().filter(i -> i.service.equals(id) && i.isHealthy() && !i.draining).forEach(i -> {
            ObjectNode e = list.addObject().put("instance", i.id).put("version", i.version).put("host", i.hostname);
            var p = e.putArray("ports");
            i.ports.forEach(p::add);
            if (!i.ports.isEmpty()) {
                e.put("address", i.hostname + ":" + i.ports.get(0));
            }
        });
        return o;
    }

    static ArrayNode deployments(Collection<Deployment> running, Collection<Deployment> past) {
        ArrayNode out = DefinitionJson.MAPPER.createArrayNode();
        running.forEach(d -> out.add(d.toJson()));
        past.forEach(d -> out.add(d.toJson()));
        return out;
    }

    private static ObjectNode summary(ServiceState s, Map<String, Deployment> deployments, Collection<Instance> instances) {
        List<Instance> mine = instances.stream().filter(i -> i.service.equals(s.id)).toList();
        ObjectNode o = DefinitionJson.MAPPER.createObjectNode().put("id", s.id).put("version", s.target)
                .put("status", s.status.name()).put("reason", s.reason).put("instances", s.def().instances())
                .put("running", mine.stream().filter(i -> i.phase == Instance.Phase.RUNNING).count())
                .put("healthy", mine.stream().filter(Instance::isHealthy).count());
        Deployment d = deployments.get(s.id);
        if (d != null) {
            o.set("deployment", d.toJson());
        }
        return o;
    }
}
