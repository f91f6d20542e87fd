package io.mezzo.agent;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who may import what inside the agent, so that the rooms of {@code AgentCore} stay rooms without anyone
 * re-reading the imports (see the package overview of {@code io.mezzo.agent}). Production classes only.
 */
class AgentArchitectureTest {

    private static final String CORE = "io.mezzo.agent";
    /** The classes that own a concern on the loop (and every class nested in one). */
    private static final Pattern OWNER = Pattern.compile(".*(Manager|Monitor|Recovery|Launcher|Lifecycle|Checkpointer)");

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(CORE);
    }

    @Test
    void managersMonitorsAndRecoveryNeverReachIntoTheGrpcEdge() {
        noClasses().that(owners())
                .should().dependOnClassesThat(grpcEdge())
                .because("the gRPC edge only translates and enqueues; the owners of the agent's concerns are"
                        + " called on the loop by the core (AgentCore)")
                .check(classes);
    }

    @Test
    void onlyTheEdgeAndTheWiringUseGrpc() {
        noClasses().that().resideInAPackage(CORE + "..")
                .and().resideOutsideOfPackage(CORE + ".link..")
                .and().doNotHaveSimpleName("Agent")
                .and().doNotHaveSimpleName("AgentOperatorService")
                .should().dependOnClassesThat().resideInAPackage("io.grpc..")
                .because("gRPC lives in the master link, the operator service and the agent's wiring")
                .check(classes);
    }

    @Test
    void theContainerizerKnowsNothingOfTasksStatusUpdatesOrTheMaster() {
        noClasses().that().resideInAPackage(CORE + ".containerizer..")
                .should().dependOnClassesThat().resideInAnyPackage(CORE, CORE + ".status..", CORE + ".link..")
                .because("containers are the core's tools: they report to listeners, never call the core back")
                .check(classes);
    }

    @Test
    void statusUpdatesDoNotDependOnContainers() {
        noClasses().that().resideInAPackage(CORE + ".status..")
                .should().dependOnClassesThat().resideInAPackage(CORE + ".containerizer..")
                .check(classes);
    }

    @Test
    void statusUpdatesCrossTheAgentWithoutTurningBack() {
        noClasses().that().resideInAPackage(CORE + ".status..")
                .should().dependOnClassesThat().resideInAnyPackage(CORE, CORE + ".link..", CORE + ".checkpoint..")
                .because("the status update manager is handed a sender and a checkpoint writer, and tells the"
                        + " core only that a terminal update was acknowledged")
                .check(classes);
    }

    @Test
    void subPackagesNeverDependOnTheCore() {
        noClasses().that().resideInAPackage(CORE + "..").and().resideOutsideOfPackage(CORE)
                .should().dependOnClassesThat().resideInAPackage(CORE)
                .because("the core (AgentCore and its rooms) depends on the sub-packages, not the other way")
                .check(classes);
    }

    @Test
    void theMasterLinkIsOnlyTheStream() {
        noClasses().that().resideInAPackage(CORE + ".link..")
                .should().dependOnClassesThat(resideInAPackage(CORE + "..").and(resideOutsideOfPackage(CORE + ".link..")))
                .because("the link hands messages to its Handler and acknowledgements to a consumer")
                .check(classes);
    }

    @Test
    void onlyTaskLifecycleReportWritesATasksState() {
        methods().that().areDeclaredIn(TaskRecord.class).and().haveName("reported")
                .should().onlyBeCalled().byCodeUnitsThat(declaredIn(TaskLifecycle.class, "report"))
                .because("TaskLifecycle.report is the one writer of a task's state (TaskRecord invariant 1)")
                .check(classes);
    }

    @Test
    void onlyTaskLifecycleMoveChangesATasksPhase() {
        methods().that().areDeclaredIn(TaskRecord.class).and().haveName("moveTo")
                .should().onlyBeCalled().byCodeUnitsThat(declaredIn(TaskLifecycle.class, "move"))
                .because("TaskLifecycle.move checks every phase change (TaskRecord invariant 2)")
                .check(classes);
    }

    @Test
    void agentCodeTakesTheInjectedClock() {
        noClasses().that().resideInAPackage(CORE + "..")
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(Thread.class, "sleep", long.class)
                .because("timers are loop timers on the injected clock, so tests can drive them")
                .check(classes);
    }

    // ---------------------------------------------------------------- predicates

    private static DescribedPredicate<JavaClass> owners() {
        return DescribedPredicate.describe("own a concern on the loop (*Manager, *Monitor, *Recovery, *Launcher,"
                + " *Lifecycle, *Checkpointer)", c -> OWNER.matcher(outermost(c).getSimpleName()).matches());
    }

    private static DescribedPredicate<JavaClass> grpcEdge() {
        return DescribedPredicate.describe("are the gRPC edge (io.grpc, the master link, AgentOperatorService,"
                + " generated *Grpc stubs)", c -> c.getPackageName().startsWith("io.grpc")
                        || c.getPackageName().startsWith(CORE + ".link")
                        || outermost(c).getSimpleName().equals("AgentOperatorService")
                        || outermost(c).getSimpleName().endsWith("Grpc"));
    }

    private static DescribedPredicate<JavaCodeUnit> declaredIn(Class<?> owner, String method) {
        return DescribedPredicate.describe(owner.getSimpleName() + "." + method,
                u -> u.getOwner().isEquivalentTo(owner) && u.getName().equals(method));
    }

    private static JavaClass outermost(JavaClass c) {
        JavaClass out = c;
        while (out.getEnclosingClass().isPresent()) {
            out = out.getEnclosingClass().get();
        }
        return out;
    }
}
