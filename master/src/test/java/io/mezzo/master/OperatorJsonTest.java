package io.mezzo.master;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mezzo.proto.v1.AgentView;
import io.mezzo.proto.v1.GetRolesResponse;
import io.mezzo.proto.v1.QuotaConfig;
import io.mezzo.proto.v1.Resource;
import io.mezzo.proto.v1.RoleView;
import io.mezzo.proto.v1.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The HTTP views' JSON: every scalar's {@code milli} keeps its place and gets an exact {@code value} twin. */
@Timeout(10)
class OperatorJsonTest {

    private static Resource scalar(String name, long milli) {
        return Resource.newBuilder().setName(name).setType(Value.Type.SCALAR)
                .setScalar(Value.Scalar.newBuilder().setMilli(milli)).build();
    }

    @Test
    void everyScalarGetsItsAmountInUnitsRightAfterItsMilli() throws Exception {
        AgentView agent = AgentView.newBuilder()
                .addTotalResources(scalar("cpus", 2000))
                .addTotalResources(scalar("mem", 1536000))
                .addUsedResources(scalar("cpus", 1))
                .addUsedResources(scalar("disk", 0))
                .setRegisteredTime(1796288699.066)
                .build();

        String json = OperatorJson.print(agent);

        assertThat(json).contains("\"milli\": \"2000\",\n").contains("\"value\": 2\n")
                .contains("\"value\": 1536\n").contains("\"value\": 0.001\n").contains("\"value\": 0\n")
                .doesNotContain("E-").doesNotContain("E9");
        assertThat(json.indexOf("\"value\": 2")).isGreaterThan(json.indexOf("\"milli\": \"2000\""));
        // Still JSON, and both fields are there for each scalar.
        JsonObject tree = JsonParser.parseString(json).getAsJsonObject();
        JsonObject cpus = tree.getAsJsonArray("total_resources").get(0).getAsJsonObject().getAsJsonObject("scalar");
        assertThat(cpus.get("milli").getAsString()).isEqualTo("2000");
        assertThat(cpus.get("value").getAsBigDecimal()).isEqualByComparingTo("2");
        assertThat(tree.getAsJsonArray("used_resources").get(0).getAsJsonObject().getAsJsonObject("scalar")
                .get("value").getAsBigDecimal()).isEqualByComparingTo("0.001");
        assertThat(tree.get("registered_time_iso").getAsString()).isEqualTo("2026-12-03T09:04:59.066Z");
    }

    @Test
    void quotaMapsGetTheTwinToo() throws Exception {
        GetRolesResponse roles = GetRolesResponse.newBuilder().addRoles(RoleView.newBuilder().setRole("eng")
                .setQuota(QuotaConfig.newBuilder().setRole("eng")
                        .putGuarantees("cpus", Value.Scalar.newBuilder().setMilli(500).build())
                        .putLimits("mem", Value.Scalar.newBuilder().setMilli(8_388_608_000L).build())))
                .build();

        String json = OperatorJson.print(roles);
        JsonObject quota = JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("roles").get(0)
                .getAsJsonObject().getAsJsonObject("quota");

        assertThat(quota.getAsJsonObject("guarantees").getAsJsonObject("cpus").get("value").getAsBigDecimal())
                .isEqualByComparingTo("0.5");
        assertThat(quota.getAsJsonObject("limits").getAsJsonObject("mem").get("milli").getAsString())
                .isEqualTo("8388608000");
        assertThat(json).contains("\"value\": 8388608\n");
    }
}
