package dptrain.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layout ARCHITECTURE.md describes, checked on the compiled main classes of worker-lib and the
 * driver: every package is a room that depends only on rooms below it.
 */
class LayeringTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        // worker-lib comes as target/classes or, in a full reactor build, as its jar: take both.
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dptrain");
    }

    @Test
    void noTwoPackagesDependOnEachOther() {
        // Each package is its own slice, so dptrain.driver and dptrain.driver.rounds count as two.
        slices().matching("dptrain.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void theExecutorSideNeverReachesTheDriver() {
        noClasses().that().resideInAnyPackage("dptrain.data..", "dptrain.replica..", "dptrain.exchange..",
                "dptrain.peers..", "dptrain.inference..", "dptrain.timing..")
                .should().dependOnClassesThat().resideInAnyPackage("dptrain.driver..", "dptrain.cli..", "dptrain.ml..",
                        "dptrain.report..")
                .check(classes);
    }

    @Test
    void theLibraryNeverDependsOnItsFrontEnds() {
        noClasses().that().resideInAnyPackage("dptrain.driver..", "dptrain.report..")
                .should().dependOnClassesThat().resideInAnyPackage("dptrain.cli..", "dptrain.ml..")
                .check(classes);
    }

    @Test
    void keepsKerasModelImportOffTheExecutorSide() {
        noClasses().that().resideInAnyPackage("dptrain.data..", "dptrain.replica..", "dptrain.exchange..",
                "dptrain.peers..", "dptrain.inference..")
                .should().dependOnClassesThat().resideInAnyPackage("org.deeplearning4j.nn.modelimport..")
                .check(classes);
    }
}
