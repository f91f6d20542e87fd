package io.mezzo.agent.resources;

import io.mezzo.common.resources.RangeSet;
import io.mezzo.common.resources.ResourceText;
import io.mezzo.common.resources.Resources;
import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.Value;
import java.util.List;

/**
 * Parses the agent's {@code --resources} and {@code --attributes} flags (Mesos text syntax, or Mesos
 * JSON for resources) and checks what {@link ResourceText} cannot know: that the standard resources
 * have their standard types and that ports are real port numbers. Every error starts with the flag and
 * names the part that is wrong.
 *
 * <p>Pure; any thread. Public so that the launcher can use it.
 */
public final class ResourceFlags {

    private ResourceFlags() {}

    /**
     * Parses {@code --resources}, e.g. {@code cpus:4;mem:8192;ports:[31000-31999];cpus(eng):2}.
     *
     * @throws IllegalArgumentException naming the flag and the offending part
     */
    public static Resources parseResources(String text) {
        Resources parsed;
        try {
            parsed = ResourceText.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--resources: " + e.getMessage(), e);
        }
        for (Resource r : parsed.toProto()) {
            String name = r.getName();
            boolean scalar = name.equals(Resources.CPUS) || name.equals(Resources.MEM) || name.equals(Resources.DISK);
            if (scalar && r.getType() != Value.Type.SCALAR) {
                throw new IllegalArgumentException(
                        "--resources: '" + name + "' must be a number, e.g. " + name + ":4, not " + r.getType());
            }
            if (name.equals(Resources.PORTS)) {
                if (r.getType() != Value.Type.RANGES) {
                    throw new IllegalArgumentException(
                            "--resources: 'ports' must be ranges, e.g. ports:[31000-32000], not " + r.getType());
                }
                RangeSet ports = RangeSet.fromProto(r.getRanges());
                if (!RangeSet.of(1, 65535).contains(ports)) {
                    throw new IllegalArgumentException(
                            "--resources: ports " + ports + " are not all within 1-65535");
                }
            }
        }
        return parsed;
    }

    /**
     * Parses {@code --attributes}, e.g. {@code rack:r1;zone:a;level:3}. Blank text means none.
     *
     * @throws IllegalArgumentException naming the flag and the offending part
     */
    public static List<Attribute> parseAttributes(String text) {
        try {
            return ResourceText.parseAttributes(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--attributes: " + e.getMessage(), e);
        }
    }
}
