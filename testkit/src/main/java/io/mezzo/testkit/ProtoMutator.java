package io.mezzo.testkit;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Random;

/**
 * Seeded mutation of valid protocol messages, for fuzzing the daemons' edges: each mutation picks a
 * field of the message (or of a nested one) through its descriptor and sets it to an interesting
 * value: empty, huge, an id that is no id, an extreme number, an enum value that does not exist, or
 * a copy of a repeated element. The same seed and input give the same output, so a failure is
 * replayed from the seed printed with it.
 *
 * <p>Not thread-safe (it owns its {@link Random}); one per fuzzing thread.
 */
public final class ProtoMutator {

    private static final List<String> STRINGS = List.of("", ".", "..", "../../etc", "a/b", "*", "-x", " ", "\n",
            "\u0000", "m1-S1", "m1-0001", "t1", "root", "nobody", "\u00e9\u4e2d");
    private static final long[] LONGS = {0, 1, -1, 9, 32, 999, 1000, 32_000, Long.MAX_VALUE, Long.MIN_VALUE,
        Integer.MAX_VALUE, 1_000_000_000_000_000L};
    private static final double[] DOUBLES = {0, -1, 1e-9, 1, 60, 1e12, Double.NaN, Double.POSITIVE_INFINITY,
        Double.MAX_VALUE};

    private final Random random;
    private final List<String> ids;

    /**
     * A mutator drawing from {@code random}; {@code ids} are real ids of the system under test,
     * mixed in so that mutations also hit existing objects.
     */
    public ProtoMutator(Random random, List<String> ids) {
        this.random = random;
        this.ids = ids;
    }

    /** {@code message} with between one and {@code max} mutations. */
    @SuppressWarnings("unchecked")
    public <T extends Message> T mutate(T message, int max) {
        Message.Builder b = message.toBuilder();
        int count = 1 + random.nextInt(Math.max(1, max));
        for (int i = 0; i < count; i++) {
            mutateOne(b, 0);
        }
        return (T) b.build();
    }

    /** A string: a known id, a tricky one, random text, or (rarely) a very long one. */
    public String string() {
        int pick = random.nextInt(10);
        if (pick < 3 && !ids.isEmpty()) {
            return ids.get(random.nextInt(ids.size()));
        }
        if (pick < 7) {
            return STRINGS.get(random.nextInt(STRINGS.size()));
        }
        if (pick < 9) {
            return "x".repeat(random.nextInt(300));
        }
        return "y".repeat(1 + random.nextInt(300 * 1024));
    }

    private void mutateOne(Message.Builder b, int depth) {
        List<FieldDescriptor> fields = b.getDescriptorForType().getFields();
        if (fields.isEmpty()) {
            return;
        }
        FieldDescriptor f = fields.get(random.nextInt(fields.size()));
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            if (depth > 6) {
                return;
            }
            if (f.isRepeated()) {
                int n = b.getRepeatedFieldCount(f);
                if (n > 0 && random.nextInt(3) == 0) {
                    // Duplicate an element (ids given twice, many tasks), or drop the field.
                    if (random.nextBoolean()) {
                        b.addRepeatedField(f, b.getRepeatedField(f, random.nextInt(n)));
                    } else {
                        b.clearField(f);
                    }
                    return;
                }
                if (n == 0 || random.nextBoolean()) {
                    Message.Builder child = b.newBuilderForField(f);
                    mutateOne(child, depth + 1);
                    b.addRepeatedField(f, child.build());
                } else {
                    int at = random.nextInt(n);
                    Message.Builder child = ((Message) b.getRepeatedField(f, at)).toBuilder();
                    mutateOne(child, depth + 1);
                    b.setRepeatedField(f, at, child.build());
                }
                return;
            }
            if (random.nextInt(8) == 0) {
                b.clearField(f);
                return;
            }
            Message.Builder child = ((Message) b.getField(f)).toBuilder();
            mutateOne(child, depth + 1);
            b.setField(f, child.build());
            return;
        }
        Object value = scalar(f);
        if (f.isRepeated()) {
            b.addRepeatedField(f, value);
        } else {
            b.setField(f, value);
        }
    }

    private Object scalar(FieldDescriptor f) {
        return switch (f.getJavaType()) {
            case STRING -> string();
            case INT -> random.nextBoolean() ? (int) LONGS[random.nextInt(LONGS.length)] : random.nextInt(100) - 10;
            case LONG -> random.nextBoolean() ? LONGS[random.nextInt(LONGS.length)] : (long) random.nextInt(1_000_000);
            case DOUBLE -> DOUBLES[random.nextInt(DOUBLES.length)];
            case FLOAT -> (float) DOUBLES[random.nextInt(DOUBLES.length)];
            case BOOLEAN -> random.nextBoolean();
            case BYTE_STRING -> {
                byte[] bytes = new byte[random.nextBoolean() ? 16 : random.nextInt(40)];
                random.nextBytes(bytes);
                yield ByteString.copyFrom(bytes);
            }
            case ENUM -> {
                EnumDescriptor type = f.getEnumType();
                yield random.nextInt(5) == 0
                        ? type.findValueByNumberCreatingIfUnknown(100 + random.nextInt(100))
                        : type.getValues().get(random.nextInt(type.getValues().size()));
            }
            case MESSAGE -> throw new IllegalArgumentException("not a scalar: " + f);
        };
    }
}
