package io.mezzo.services;

import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Offer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Places wanted instances on a batch of offers: resources, ports and constraints ({@link Placement})
 * per offer, round robin over the services so that one batch spreads instances as constraints
 * ({@code GROUP_BY}) ask; offers of draining agents take nothing.
 *
 * <pre>
 *   offers + wants (service -> versions to launch) -> round r: per offer, per service, at most one
 *   instance -> placed(instance) (the caller records it) -> ... until a round places nothing
 * </pre>
 *
 * <p>No state of its own; it consumes {@code wants} and advances each service's instance counter
 * (part of the caller's transaction). Thread: the manager's loop. Owner: {@link ServiceManager}.
 */
final class OfferMatcher {

    private OfferMatcher() {}

    /**
     * Matches {@code wants} to {@code offers}; returns the instances placed per offer (offers that
     * took none are absent). {@code placedOn} gives the agents a service's live instances are on
     * (including those placed by this call, which {@code placed} records before the next one).
     */
    static Map<Offer, List<Instance>> match(List<Offer> offers, Map<String, List<Integer>> wants,
            Map<String, ServiceState> services, Map<String, AgentView> agents, Set<String> draining,
            Function<String, List<AgentView>> placedOn, long now, Consumer<Instance> placed) {
        Map<Offer, List<Instance>> launches = new LinkedHashMap<>();
        Map<Offer, Resources> left = new LinkedHashMap<>();
        for (Offer offer : offers) {
            if (!draining.contains(offer.getAgentId().getValue())) {
                left.put(offer, Resources.fromProto(offer.getResourcesList()).unreserved());
            }
        }
        Collection<AgentView> all = agents.values();
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Offer offer : left.keySet()) {
                String agentId = offer.getAgentId().getValue();
                AgentView agent = agents.get(agentId);
                for (var e : wants.entrySet()) {
                    ServiceState s = services.get(e.getKey());
                    List<Integer> versions = e.getValue();
                    if (versions.isEmpty()) {
                        continue;
                    }
                    ServiceDefinition def = s.versions.get(versions.get(0));
                    List<Long> ports = Placement.place(def, left.get(offer), agent, placedOn.apply(s.id), all);
                    if (ports == null) {
                        continue;
                    }
                    int version = versions.remove(0);
                    Instance i = new Instance(s.id + "." + version + "." + s.nextInstance++, s.id, version, agentId,
                            offer.getHostname(), ports, now);
                    launches.computeIfAbsent(offer, o -> new ArrayList<>()).add(i);
                    left.put(offer, left.get(offer).minus(Placement.resources(def, ports)));
                    placed.accept(i);
                    progress = true;
                }
            }
        }
        return launches;
    }
}
