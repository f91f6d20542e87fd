package io.mezzo.master.allocator;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The allocator is pure and stands alone (STYLE.md rules 10 and 29): it imports nothing of the
 * master outside its package, no edge (gRPC, Netty), no logging, no clock, no I/O, no concurrency,
 * and shuffles only with a seeded random. These rules hold without anyone re-reading the imports.
 * Only the package's main classes are checked (not these tests); a rule whose {@code that()}
 * matched no class would fail, so a renamed package cannot make it pass vacuously.
 */
class AllocatorArchitectureTest {

    private static final String ALLOCATOR = "io.mezzo.master.allocator..";

    private static JavaClasses classes;

    @BeforeAll
    static void importAllocator() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.mezzo.master.allocator");
    }

    @Test
    void importsNothingOfTheMasterOutsideItsPackage() {
        noClasses().that().resideInAPackage(ALLOCATOR)
                .should().dependOnClassesThat(
                        resideInAPackage("io.mezzo.master..").and(not(resideInAPackage(ALLOCATOR))))
                .because("the master calls the allocator, never the other way round")
                .check(classes);
    }

    @Test
    void reachesNoEdgeAndLogsNothing() {
        noClasses().that().resideInAPackage(ALLOCATOR)
                .should().dependOnClassesThat(resideInAnyPackage("io.grpc..", "io.netty..", "org.slf4j..",
                        "org.apache.curator..", "org.apache.zookeeper.."))
                .because("the allocator does no I/O and logs nothing; the master logs each cycle's seed")
                .check(classes);
    }

    @Test
    void readsNoClockAndDoesNoIo() {
        noClasses().that().resideInAPackage(ALLOCATOR)
                .should().dependOnClassesThat(
                        resideInAnyPackage("java.time..", "java.io..", "java.nio..", "java.net.."))
                .orShould().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Thread.class, "sleep", long.class)
                .because("a cycle is a function of its state, the \"now\" it is given and its seed")
                .check(classes);
    }

    @Test
    void isConfinedToOneThreadAndSeeded() {
        noClasses().that().resideInAPackage(ALLOCATOR)
                .should().dependOnClassesThat(resideInAnyPackage("java.util.concurrent.."))
                .orShould().callConstructor(Random.class)
                .orShould().callMethod(Math.class, "random")
                .because("the master's event loop is the only thread here, and any shuffle replays from a logged seed")
                .check(classes);
    }
}
