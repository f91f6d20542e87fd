package io.mezzo.master.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: one line on the {@code io.mezzo.audit} logger for every mutating operator call
 * (allowed or refused, and how it ended), with the principal, the caller's address, the action and
 * its object. Route the logger to its own file in logback.xml to keep an audit trail. Stateless;
 * any thread.
 */
public final class Audit {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.mezzo.audit");

    private Audit() {}

    /** Records {@code action} on {@code object} by {@code principal} from {@code peer}, and its {@code outcome}. */
    public static void record(String principal, String peer, String action, String object, String outcome) {
        AUDIT.info("principal={} peer={} action={} object={} outcome={}",
                principal == null ? "anonymous" : principal, peer, action, object, outcome);
    }
}
