package io.mezzo.master;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.grpc.BindableService;
import io.mezzo.master.allocator.Quota;
import io.mezzo.master.allocator.RoleConfig;
import java.lang.reflect.AccessibleObject;
import org.junit.jupiter.api.Test;

/**
 * The master's layering, stated as rules that fail the build when broken (each was checked once
 * by breaking it):
 *
 * <pre>
 *  edge (gRPC services, HttpEndpoints, OperatorHttpApi, Master)  threads: gRPC, Netty, election
 *    |  enqueue on the loop
 *    v
 *  MasterCore  -- dispatch -->  AgentReregistration
 *    |                              |
 *    v                              v
 *  AgentManager, FrameworkManager, RoleSettingsManager    StateViews (read-only, also for the edge)
 *    |
 *    v
 *  TaskLifecycle --> OfferManager --> DrfAllocator (allocator package: imports nothing of the master)
 *    |                  |
 *    v                  v
 *  Outbox, LeaderTerm, records, lookups, connections, config      validation: pure, no master state
 * </pre>
 */
class MasterArchitectureTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.mezzo.master");

    private static final JavaClasses MAIN_AND_TESTS = new ClassFileImporter().importPackages("io.mezzo.master");

    /** The edge: where other threads come in (gRPC, Netty, the election) and the process is wired. */
    private static final DescribedPredicate<JavaClass> EDGE = belongToAnyOf(Master.class, MasterFaults.class,
            SchedulerService.class, AgentLinkService.class, OperatorService.class, HttpEndpoints.class,
            PeerInterceptor.class, Leadership.class, MasterHealth.class, GrpcMetricsInterceptor.class,
            OperatorEvents.class, EmbeddedMaster.class, OperatorHttpApi.class, EventStreamSubscriber.class)
            .as("the gRPC/HTTP edge");

    /** Everything in io.mezzo.master that runs on the master's event loop. */
    private static final DescribedPredicate<JavaClass> LOOP_SIDE =
            resideInAPackage("io.mezzo.master").and(not(EDGE)).as("the loop side of io.mezzo.master");

    private static final DescribedPredicate<JavaClass> CORE = belongToAnyOf(MasterCore.class).as("MasterCore");
    private static final DescribedPredicate<JavaClass> REREGISTRATION =
            belongToAnyOf(AgentReregistration.class).as("AgentReregistration");
    private static final DescribedPredicate<JavaClass> MANAGERS =
            belongToAnyOf(AgentManager.class, FrameworkManager.class, RoleSettingsManager.class, DrainManager.class)
                    .as("managers");
    private static final DescribedPredicate<JavaClass> VIEWS = belongToAnyOf(StateViews.class, StateSnapshots.class)
            .as("StateViews and StateSnapshots");
    private static final DescribedPredicate<JavaClass> TASKS = belongToAnyOf(TaskLifecycle.class).as("TaskLifecycle");
    private static final DescribedPredicate<JavaClass> OFFERS = belongToAnyOf(OfferManager.class).as("OfferManager");
    /** Everything else of io.mezzo.master: records, lookups, connections, Outbox, LeaderTerm, config. */
    private static final DescribedPredicate<JavaClass> BASE = resideInAPackage("io.mezzo.master")
            .and(not(EDGE.or(CORE).or(REREGISTRATION).or(MANAGERS).or(VIEWS).or(TASKS).or(OFFERS)))
            .as("records and helpers");

    static final ArchRule ALLOCATOR_IMPORTS_NOTHING_OF_THE_MASTER = noClasses()
            .that().resideInAPackage("io.mezzo.master.allocator..")
            .should().dependOnClassesThat(resideInAPackage("io.mezzo.master..")
                    .and(not(resideInAPackage("io.mezzo.master.allocator.."))))
            .because("the allocator is pure: a snapshot and now in, offers out (STYLE 10)");

    static final ArchRule VALIDATION_SEES_NO_MASTER_STATE = noClasses()
            .that().resideInAPackage("io.mezzo.master.validation..")
            .should().dependOnClassesThat().resideInAPackage("io.mezzo.master")
            .because("validators judge plain inputs, never the master's mutable records");

    static final ArchRule VALIDATION_IS_PURE = classes()
            .that().resideInAPackage("io.mezzo.master.validation..")
            .should().onlyDependOnClassesThat(resideInAnyPackage("io.mezzo.master.validation..",
                    "io.mezzo.common.id..", "io.mezzo.common.resources..", "io.mezzo.common.validation..",
                    "io.mezzo.proto..", "com.google.protobuf..",
                    "java..").or(belongToAnyOf(RoleConfig.class, Quota.class)))
            .because("validators are pure functions: no loop, no clock, no I/O, no allocator state");

    @Test
    void theAllocatorImportsNothingOfTheMaster() {
        ALLOCATOR_IMPORTS_NOTHING_OF_THE_MASTER.check(MAIN);
    }

    @Test
    void validationIsPureAndSeesNoMasterState() {
        VALIDATION_SEES_NO_MASTER_STATE.check(MAIN);
        VALIDATION_IS_PURE.check(MAIN);
    }

    @Test
    void theLoopSideNeverReachesIntoTheGrpcOrHttpEdge() {
        noClasses().that(LOOP_SIDE)
                .should().dependOnClassesThat(EDGE.or(resideInAnyPackage("io.grpc.stub..", "io.grpc.netty..",
                        "io.grpc.protobuf.services..", "io.netty..")))
                .because("edges translate and enqueue; managers and the core only queue on OutboundStreams (STYLE 5)")
                .check(MAIN);
    }

    @Test
    void callsGoOneWayFromTheCoreDownToTheOffers() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("Edge").definedBy(EDGE)
                .layer("Core").definedBy(CORE)
                .layer("Reregistration").definedBy(REREGISTRATION)
                .layer("Managers").definedBy(MANAGERS)
                .layer("Views").definedBy(VIEWS)
                .layer("Tasks").definedBy(TASKS)
                .layer("Offers").definedBy(OFFERS)
                .layer("Base").definedBy(BASE)
                .whereLayer("Edge").mayNotBeAccessedByAnyLayer()
                .whereLayer("Core").mayOnlyBeAccessedByLayers("Edge")
                .whereLayer("Reregistration").mayOnlyBeAccessedByLayers("Core")
                .whereLayer("Managers").mayOnlyBeAccessedByLayers("Core", "Reregistration")
                .whereLayer("Views").mayOnlyBeAccessedByLayers("Core", "Edge")
                .whereLayer("Tasks").mayOnlyBeAccessedByLayers("Core", "Reregistration", "Managers", "Views")
                .whereLayer("Offers").mayOnlyBeAccessedByLayers("Core", "Reregistration", "Managers", "Views", "Tasks")
                .because("one direction of calls keeps each concern readable on its own; lower classes read records"
                        + " through AgentLookup/FrameworkLookup")
                .check(MAIN);
    }

    @Test
    void theAgentAndFrameworkManagersDoNotCallEachOther() {
        noClasses().that(belongToAnyOf(AgentManager.class)).should().dependOnClassesThat(
                belongToAnyOf(FrameworkManager.class, RoleSettingsManager.class)).check(MAIN);
        noClasses().that(belongToAnyOf(FrameworkManager.class)).should().dependOnClassesThat(
                belongToAnyOf(AgentManager.class, RoleSettingsManager.class)).check(MAIN);
        noClasses().that(belongToAnyOf(RoleSettingsManager.class)).should().dependOnClassesThat(
                belongToAnyOf(AgentManager.class, FrameworkManager.class)).check(MAIN);
    }

    @Test
    void coreCodeTakesTimeFromTheInjectedClock() {
        noClasses().that(LOOP_SIDE.or(resideInAPackage("io.mezzo.master.allocator..")))
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Thread.class, "sleep", long.class)
                .because("time is injected: tests advance a ManualClock (STYLE 16)")
                .check(MAIN);
    }

    @Test
    void aServiceIsAGrpcService() {
        classes().that().resideInAPackage("io.mezzo.master..").and().haveSimpleNameEndingWith("Service")
                .should().beAssignableTo(BindableService.class)
                .because("*Service means a gRPC service (STYLE 3); Netty HTTP is HttpEndpoints")
                .check(MAIN);
    }

    @Test
    void nothingReflectsIntoTheMaster() {
        noClasses().should().callMethodWhere(target(name("setAccessible"))
                        .and(target(owner(assignableTo(AccessibleObject.class)))))
                .because("tests and benchmarks use Master.faults(), not reflection")
                .check(MAIN_AND_TESTS);
    }
}
