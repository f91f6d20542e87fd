package io.mezzo.ha.zk;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.mezzo.proto.v1.MasterInfo;
import java.nio.charset.StandardCharsets;

/**
 * MasterInfo as the JSON the leader publishes in ZooKeeper, with the proto field names
 * ({@code "ip"}, {@code "port"}, {@code "http_port"}, {@code "epoch"}) so tools in any language can
 * read it.
 */
public final class MasterInfoJson {

    private MasterInfoJson() {}

    /** Encodes. */
    public static byte[] encode(MasterInfo info) {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().print(info).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("MasterInfo cannot be printed as JSON", e);
        }
    }

    /**
     * Decodes; unknown fields are ignored so older readers survive newer leaders.
     *
     * @throws IllegalArgumentException if the bytes are not MasterInfo JSON
     */
    public static MasterInfo decode(byte[] json) {
        MasterInfo.Builder b = MasterInfo.newBuilder();
        try {
            JsonFormat.parser().ignoringUnknownFields().merge(new String(json, StandardCharsets.UTF_8), b);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("leader znode does not hold MasterInfo JSON: " + e.getMessage());
        }
        return b.build();
    }

    /** A leader as the detectors log it: {@code id at ip:port (epoch N)}, or {@code none}. */
    static String describe(java.util.Optional<MasterInfo> m) {
        return m.map(i -> (i.getId().isEmpty() ? "" : i.getId() + " at ") + i.getIp() + ":" + i.getPort()
                + " (epoch " + i.getEpoch() + ")").orElse("none");
    }
}
