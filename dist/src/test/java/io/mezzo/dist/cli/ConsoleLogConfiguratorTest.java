package io.mezzo.dist.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.status.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The console logging of client commands (mezzo run, mezzo tls, ...), configured in code: its
 * pattern parses without a Logback error. An error makes Logback dump its status on every run,
 * as it did when %mezzoEx was not registered before the pattern was parsed.
 */
@Timeout(30)
class ConsoleLogConfiguratorTest {

    @Test
    void theClientPatternParsesWithoutErrors() {
        LoggerContext context = new LoggerContext();
        ConsoleLogConfigurator.install(context);

        assertThat(context.getStatusManager().getCopyOfStatusList())
                .filteredOn(s -> s.getLevel() >= Status.WARN)
                .extracting(Status::getMessage)
                .isEmpty();
        context.stop();
    }
}
