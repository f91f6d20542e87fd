package io.mezzo.dist.arch;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module layering of docs/architecture.md as a test, checked on the production classes of every
 * daemon module (dist's classpath holds them all): {@code proto <- common <- zk-ha <- master / agent
 * / scheduler-api <- dist}, {@code scheduler-api <- services <- dist} (the service scheduler is a framework:
 * never master or agent), and master, agent and scheduler-api never import each other. The
 * simulator ({@code sim}, on dist's test classpath) may use master and agent; nothing uses it. The Maven
 * enforcer rules keep the poms honest; this keeps the imports honest.
 */
class ModuleLayeringTest {

    private static JavaClasses production;

    @BeforeAll
    static void importClasses() {
        production = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.mezzo");
    }

    @Test
    void everyModuleIsImported() {
        // Guards the rule below against passing on an empty import.
        for (String module : new String[] {"io.mezzo.proto.v1", "io.mezzo.common.loop", "io.mezzo.ha.election",
                "io.mezzo.master", "io.mezzo.agent", "io.mezzo.scheduler", "io.mezzo.services", "io.mezzo.dist.cli",
                "io.mezzo.sim"}) {
            assertThat(production.containPackage(module)).as("classes of %s imported", module).isTrue();
        }
    }

    @Test
    void modulesDependOneWay() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("proto").definedBy("io.mezzo.proto..")
                .layer("common").definedBy("io.mezzo.common..")
                .layer("zk-ha").definedBy("io.mezzo.ha..")
                .layer("master").definedBy("io.mezzo.master..")
                .layer("agent").definedBy("io.mezzo.agent..")
                .layer("scheduler-api").definedBy("io.mezzo.scheduler..")
                .layer("services").definedBy("io.mezzo.services..")
                .layer("dist").definedBy("io.mezzo.dist..")
                .layer("sim").definedBy("io.mezzo.sim..")
                .whereLayer("dist").mayNotBeAccessedByAnyLayer()
                .whereLayer("sim").mayNotBeAccessedByAnyLayer()
                .whereLayer("master").mayOnlyBeAccessedByLayers("dist", "sim")
                .whereLayer("agent").mayOnlyBeAccessedByLayers("dist", "sim")
                .whereLayer("services").mayOnlyBeAccessedByLayers("dist")
                .whereLayer("scheduler-api").mayOnlyBeAccessedByLayers("services", "dist")
                .whereLayer("zk-ha").mayOnlyBeAccessedByLayers("master", "agent", "scheduler-api", "services", "dist", "sim")
                .whereLayer("common").mayOnlyBeAccessedByLayers("zk-ha", "master", "agent", "scheduler-api", "services",
                        "dist", "sim")
                .check(production);
    }
}
