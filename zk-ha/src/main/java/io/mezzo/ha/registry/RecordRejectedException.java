package io.mezzo.ha.registry;

/**
 * A write was refused before it reached the store because one of its records can never be
 * written (too big, or a key the store cannot hold): nothing of the write was applied, nothing
 * else is affected, and leadership is not in question. The writer refuses what asked for it.
 */
public final class RecordRejectedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    /** With the record and why. */
    public RecordRejectedException(String message) {
        super(message);
    }

    /**
     * Fails {@code ops} as a whole when one of them can never be written ({@link
     * RegistryOp#problem()}); null when all can.
     */
    static RecordRejectedException check(java.util.List<RegistryOp> ops) {
        for (RegistryOp op : ops) {
            String problem = op.problem();
            if (problem != null) {
                return new RecordRejectedException(problem);
            }
        }
        return null;
    }
}
