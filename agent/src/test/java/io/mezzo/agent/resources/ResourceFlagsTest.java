package io.mezzo.agent.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourceFlagsTest {

    @Test
    void parsesMesosText() {
        assertThat(ResourceFlags.parseResources("cpus:4;mem:8192;disk:1000;ports:[31000-31999];cpus(eng):2")
                        .toString())
                .isEqualTo("cpus:4;cpus(eng):2;disk:1000;mem:8192;ports:[31000-31999]");
    }

    @Test
    void parsesMesosJson() {
        String json = "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1.5}},"
                + "{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{\"range\":[{\"begin\":80,\"end\":81}]}}]";
        assertThat(ResourceFlags.parseResources(json).toString()).isEqualTo("cpus:1.5;ports:[80-81]");
    }

    @Test
    void errorsNameTheFlagAndTheWrongPart() {
        assertThatThrownBy(() -> ResourceFlags.parseResources("cpus:4;mem:lots"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--resources: ")
                .hasMessageContaining("mem:lots");
        assertThatThrownBy(() -> ResourceFlags.parseResources("cpus"))
                .hasMessageContaining("--resources: resource 'cpus' is not of the form name:value");
        assertThatThrownBy(() -> ResourceFlags.parseResources("ports:[32000-31000]"))
                .hasMessageContaining("32000-31000");
        assertThatThrownBy(() -> ResourceFlags.parseResources("cpus:[1-2]"))
                .hasMessage("--resources: 'cpus' must be a number, e.g. cpus:4, not RANGES");
        assertThatThrownBy(() -> ResourceFlags.parseResources("ports:5"))
                .hasMessage("--resources: 'ports' must be ranges, e.g. ports:[31000-32000], not SCALAR");
        assertThatThrownBy(() -> ResourceFlags.parseResources("ports:[0-10]"))
                .hasMessage("--resources: ports [0-10] are not all within 1-65535");
        assertThatThrownBy(() -> ResourceFlags.parseResources("[{\"name\":\"cpus\"}]"))
                .hasMessageStartingWith("--resources: resources JSON item 0 ('cpus')");
    }

    @Test
    void parsesAttributes() {
        List<Attribute> attributes = ResourceFlags.parseAttributes("rack:r1;level:3");
        assertThat(attributes).extracting(Attribute::getName).containsExactly("rack", "level");
        assertThat(attributes.get(0).getType()).isEqualTo(Value.Type.TEXT);
        assertThat(attributes.get(1).getType()).isEqualTo(Value.Type.SCALAR);
        assertThat(ResourceFlags.parseAttributes(" ")).isEmpty();
        assertThatThrownBy(() -> ResourceFlags.parseAttributes("rack:r1;zone"))
                .hasMessage("--attributes: attribute 'zone' is not of the form name:value");
    }
}
