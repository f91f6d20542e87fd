package io.mezzo.common.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mezzo.proto.v1.Attribute;
import io.mezzo.proto.v1.Value;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ResourceTextTest {

    @Test
    void parsesTheMesosSyntax() {
        Resources r = ResourceText.parse("cpus:4;mem:8192;disk:10240;ports:[31000-32000]");
        assertThat(r.scalar("cpus")).isEqualTo(4000);
        assertThat(r.scalar("mem")).isEqualTo(8_192_000);
        assertThat(r.ranges("ports").size()).isEqualTo(1001);
        assertThat(r.toString()).isEqualTo("cpus:4;disk:10240;mem:8192;ports:[31000-32000]");
    }

    @Test
    void aRoleInParenthesesIsAStaticReservation() {
        Resources r = ResourceText.parse("cpus(eng):2;mem(eng):1024;cpus(*):1");
        assertThat(r.reservedFor("eng").scalar("cpus")).isEqualTo(2000);
        assertThat(r.unreserved().scalar("cpus")).isEqualTo(1000);
        assertThat(r.keys()).filteredOn(k -> !k.unreserved())
                .allSatisfy(k -> assertThat(k.reservation().getType().name()).isEqualTo("STATIC"));
    }

    @Test
    void parsesMesosJson() {
        Resources r = ResourceText.parse("""
                [{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}},
                 {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":3}]}},
                 {"name":"mem","type":"SCALAR","scalar":{"value":64},"role":"eng"}]""");
        assertThat(r).isEqualTo(ResourceText.parse("cpus:0.5;ports:[1-3];mem(eng):64"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cpus:abc|resource 'cpus:abc': 'abc' is not a number",
        "cpus:-1|resource 'cpus:-1': '-1' is negative",
        "cpus|resource 'cpus' is not of the form name:value",
        "ports:[5-1]|range '5-1' ends before it begins",
        "ports:[1-x]|range '1-x' has a bound that is not a whole number",
        "cpus(eng:1|unclosed role",
        "cpus(a//b):1|empty segment",
        "cpus:1;cpus:2|resource 'cpus' is given twice",
        "'[{\"name\":\"cpus\"}]'|resources JSON item 0 ('cpus') has no \"type\"",
        "'[{'|resources JSON is malformed",
    })
    void malformedTextSaysWhichPartIsWrong(String text, String expected) {
        assertThatThrownBy(() -> ResourceText.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(expected);
    }

    @Test
    void parsesAttributesByShape() {
        List<Attribute> a = ResourceText.parseAttributes("rack:r1;level:3;ids:[1-4];tags:{x,y}");
        assertThat(a).extracting(Attribute::getType)
                .containsExactly(Value.Type.TEXT, Value.Type.SCALAR, Value.Type.RANGES, Value.Type.SET);
        assertThat(a.get(0).getText().getValue()).isEqualTo("r1");
        assertThatThrownBy(() -> ResourceText.parseAttributes("rack"))
                .hasMessageContaining("attribute 'rack' is not of the form name:value");
    }

    @Test
    void scalarsRoundToThousandths() {
        assertThat(Scalars.parse("0.1")).isEqualTo(100);
        assertThat(Scalars.parse("0.0005")).isEqualTo(1);
        assertThat(Scalars.format(1500)).isEqualTo("1.5");
        assertThat(Scalars.format(8_192_000)).isEqualTo("8192");
        assertThatThrownBy(() -> Scalars.fromDouble(Double.NaN)).hasMessageContaining("not a finite number");
    }

    @ParameterizedTest
    @CsvSource({"eng,", "eng/web,", "*,", "'',empty", "/eng,starts or ends", "eng/../x,'..'", "a b,forbidden", "eng//web,empty segment"})
    void roleNamesAreValidated(String role, String error) {
        String result = Roles.validate(role);
        if (error == null) {
            assertThat(result).isNull();
        } else {
            assertThat(result).contains(error);
        }
    }
}
