package io.mezzo.dist.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;

/** Test access to the encoder {@code --log_format=json} installs. */
public final class LoggingOptionsAccess {

    private LoggingOptionsAccess() {}

    public static JsonEncoder jsonEncoder(LoggerContext context) {
        return LoggingOptions.jsonEncoder(context);
    }
}
