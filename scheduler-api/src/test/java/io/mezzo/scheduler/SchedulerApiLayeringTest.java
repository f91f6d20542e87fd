package io.mezzo.scheduler;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaMember;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import io.mezzo.ha.MasterDetector;
import io.mezzo.ha.MasterDetectors;
import io.mezzo.ha.StandaloneMasterDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The library's layering, as rules that fail the build (STYLE.md rules 1 and 29): the scheduler
 * library depends on the protocol, common and zk-ha's detector types only; it never touches the
 * master, the agent, Curator or ZooKeeper (ZooKeeper master detection is an optional dependency,
 * reached only through {@link MasterDetectors}); and its public classes expose nothing
 * package-private.
 *
 * <p>Each rule is also run against {@link ArchFixtures}, classes that break it on purpose, so a rule
 * that stopped matching anything would fail here rather than pass in silence.
 */
class SchedulerApiLayeringTest {

    private static final String LIBRARY = "io.mezzo.scheduler..";

    /** The production classes of the library and of zk-ha's io.mezzo.ha (detectors). */
    private static final JavaClasses PRODUCTION = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.mezzo.scheduler", "io.mezzo.ha");

    /** 1. Of Mezzo, only proto, common and the detector types. */
    static final ArchRule ONLY_PROTO_COMMON_AND_DETECTORS = noClasses()
            .that().resideInAPackage(LIBRARY)
            .should().dependOnClassesThat(resideInAPackage("io.mezzo..")
                    .and(not(resideInAnyPackage(LIBRARY, "io.mezzo.proto..", "io.mezzo.common..")))
                    .and(not(resideInAPackage("io.mezzo.ha"))))
            .because("scheduler-api depends only on proto, common and zk-ha's leader detection"
                    + " (io.mezzo.ha: MasterDetector, StandaloneMasterDetector, MasterDetectors, LeaderHints;"
                    + " STYLE.md rule 1)");

    /** 2. Never the master or the agent (also implied by 1; stated for its message). */
    static final ArchRule NEVER_MASTER_OR_AGENT = noClasses()
            .that().resideInAPackage(LIBRARY)
            .should().dependOnClassesThat().resideInAnyPackage("io.mezzo.master..", "io.mezzo.agent..")
            .because("master, agent and scheduler-api never import each other");

    /** 3. Never Curator or ZooKeeper: frameworks need not have them. */
    static final ArchRule NEVER_CURATOR = noClasses()
            .that().resideInAPackage(LIBRARY)
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.curator..", "org.apache.zookeeper..")
            .because("ZooKeeper master detection is optional: frameworks without mezzo-zk-ha's"
                    + " Curator and ZooKeeper must be able to load every class of the library");

    /**
     * 4. The detector types the library uses (package io.mezzo.ha) need no Curator either: only
     * MasterDetectors reaches the ZooKeeper detector (io.mezzo.ha.zk), and it checks the class path
     * before it does.
     */
    static final ArchRule DETECTOR_TYPES_WITHOUT_CURATOR = noClasses()
            .that().resideInAPackage("io.mezzo.ha")
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.curator..", "org.apache.zookeeper..")
            .because("the detector types are loaded by every framework, with or without Curator");

    static final ArchRule ONLY_MASTER_DETECTORS_REACHES_ZK = noClasses()
            .that().resideInAPackage("io.mezzo.ha")
            .and(not(belongToAnyOf(MasterDetectors.class)))
            .should().dependOnClassesThat().resideInAPackage("io.mezzo.ha.zk..")
            .because("the optional ZooKeeper path is entered through MasterDetectors only");

    /** 5. The public surface exposes only public types. */
    static final ArchRule PUBLIC_SURFACE_IS_PUBLIC = classes()
            .that().resideInAPackage(LIBRARY)
            .and().arePublic()
            .should(exposeOnlyPublicMezzoTypes())
            .because("package-private classes are internals: a public signature naming one leaks them");

    // ---------------------------------------------------------------------------------------
    // The rules on the library.
    // ---------------------------------------------------------------------------------------

    @Test
    void dependsOnlyOnProtoCommonAndTheDetectorTypes() {
        ONLY_PROTO_COMMON_AND_DETECTORS.check(PRODUCTION);
    }

    @Test
    void neverDependsOnTheMasterOrTheAgent() {
        NEVER_MASTER_OR_AGENT.check(PRODUCTION);
    }

    @Test
    void neverDependsOnCuratorOrZooKeeper() {
        NEVER_CURATOR.check(PRODUCTION);
    }

    @Test
    void theDetectorTypesNeedNoCurator() {
        DETECTOR_TYPES_WITHOUT_CURATOR.check(PRODUCTION);
        ONLY_MASTER_DETECTORS_REACHES_ZK.check(PRODUCTION);
    }

    @Test
    void publicClassesExposeNoPackagePrivateType() {
        PUBLIC_SURFACE_IS_PUBLIC.check(PRODUCTION);
    }

    // ---------------------------------------------------------------------------------------
    // Each rule can fail.
    // ---------------------------------------------------------------------------------------

    @Test
    void eachRuleCatchesAClassThatBreaksIt() {
        JavaClasses fixtures = new ClassFileImporter().importClasses(
                ArchFixtures.class,
                ArchFixtures.ReachesIntoZk.class,
                ArchFixtures.UsesCurator.class,
                ArchFixtures.ExposesInternals.class,
                ArchFixtures.ExtendsInternals.class,
                ArchFixtures.ClientStateHolder.class,
                ClientState.class,
                Subscription.class);

        assertThat(ONLY_PROTO_COMMON_AND_DETECTORS.evaluate(fixtures).getFailureReport().getDetails())
                .anySatisfy(line -> assertThat(line).contains("ReachesIntoZk").contains("io.mezzo.ha.zk.ZkUrl"));
        assertThat(NEVER_CURATOR.evaluate(fixtures).getFailureReport().getDetails())
                .anySatisfy(line -> assertThat(line).contains("UsesCurator").contains("org.apache.curator"));
        assertThat(PUBLIC_SURFACE_IS_PUBLIC.evaluate(fixtures).getFailureReport().getDetails())
                .anySatisfy(line -> assertThat(line).contains("ExposesInternals.state()").contains("ClientState"))
                .anySatisfy(line -> assertThat(line).contains("ExposesInternals.subscription").contains("Subscription"))
                .anySatisfy(line -> assertThat(line).contains("ExposesInternals.<init>(").contains("Subscription"))
                .anySatisfy(line -> assertThat(line).contains("ExtendsInternals").contains("ClientStateHolder"));
    }

    // ---------------------------------------------------------------------------------------
    // The public-surface condition.
    // ---------------------------------------------------------------------------------------

    /**
     * A public class (public all the way out) names in its supertypes and in its public or protected
     * fields, constructors and methods (generics and throws clauses included) only Mezzo types that
     * are public all the way out too.
     */
    private static ArchCondition<JavaClass> exposeOnlyPublicMezzoTypes() {
        return new ArchCondition<>("expose only public Mezzo types in public signatures") {
            @Override
            public void check(JavaClass owner, ConditionEvents events) {
                if (!effectivelyPublic(owner)) {
                    return;
                }
                List<JavaType> supertypes = new ArrayList<>(owner.getInterfaces());
                owner.getSuperclass().ifPresent(supertypes::add);
                for (JavaType type : supertypes) {
                    report(events, owner, owner.getName() + " extends or implements", type);
                }
                for (JavaField field : owner.getFields()) {
                    if (visible(field)) {
                        report(events, owner, "field " + owner.getName() + "." + field.getName(), field.getType());
                    }
                }
                List<JavaCodeUnit> codeUnits = new ArrayList<>(owner.getConstructors());
                codeUnits.addAll(owner.getMethods());
                for (JavaCodeUnit unit : codeUnits) {
                    if (!visible(unit) || unit.getModifiers().contains(JavaModifier.SYNTHETIC)) {
                        continue;
                    }
                    String where = unit.getFullName();
                    report(events, owner, where + " returns", unit.getReturnType());
                    for (JavaType parameter : unit.getParameterTypes()) {
                        report(events, owner, where + " takes", parameter);
                    }
                    unit.getThrowsClause().getTypes().forEach(t -> report(events, owner, where + " throws", t));
                }
            }
        };
    }

    private static void report(ConditionEvents events, JavaClass owner, String where, JavaType type) {
        for (JavaClass raw : type.getAllInvolvedRawTypes()) {
            JavaClass base = raw.isArray() ? raw.getBaseComponentType() : raw;
            if (base.getPackageName().startsWith("io.mezzo") && !effectivelyPublic(base)) {
                events.add(SimpleConditionEvent.violated(owner, where + " " + base.getName() + ", which is not public"));
            }
        }
    }

    private static boolean visible(JavaMember member) {
        return member.getModifiers().contains(JavaModifier.PUBLIC)
                || member.getModifiers().contains(JavaModifier.PROTECTED);
    }

    private static boolean effectivelyPublic(JavaClass c) {
        JavaClass current = c;
        while (true) {
            if (!current.getModifiers().contains(JavaModifier.PUBLIC)) {
                return false;
            }
            if (current.getEnclosingClass().isEmpty()) {
                return true;
            }
            current = current.getEnclosingClass().get();
        }
    }
}
