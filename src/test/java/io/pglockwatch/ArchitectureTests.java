package io.pglockwatch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Holds the package arrows of docs/architecture.md: a pure core ({@code lock}, {@code sql}, {@code graph},
 * {@code detect}) that the parts doing I/O build on, and the web on top; no cycles between packages. A change that
 * breaks an arrow fails here, with the offending dependency named.
 */
class ArchitectureTests {

	private static final JavaClasses MAIN = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("io.pglockwatch");

	/** Plain Java: what the pure packages may use besides each other. */
	private static final String[] JAVA = { "java..", "io.pglockwatch.lock..", "io.pglockwatch.sql..",
			"io.pglockwatch.graph..", "io.pglockwatch.detect.." };

	@Test
	void pureCoreUsesNothingButJava() {
		ArchRule rule = classes().that()
			.resideInAnyPackage("io.pglockwatch.lock..", "io.pglockwatch.sql..", "io.pglockwatch.graph..",
					"io.pglockwatch.detect..")
			.should()
			.onlyDependOnClassesThat()
			.resideInAnyPackage(JAVA)
			.because("the core is pure Java (no Spring, JDBC, servlet or JSON types), so it can be read and "
					+ "tested alone and lock/sql can move into a library of their own");
		rule.check(MAIN);
	}

	@Test
	void coreArrowsPointOneWay() {
		noClasses().that()
			.resideInAnyPackage("io.pglockwatch.lock..", "io.pglockwatch.sql..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.pglockwatch.graph..", "io.pglockwatch.detect..")
			.check(MAIN);
		noClasses().that()
			.resideInAPackage("io.pglockwatch.lock..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage("io.pglockwatch.sql..")
			.check(MAIN);
		noClasses().that()
			.resideInAPackage("io.pglockwatch.graph..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.pglockwatch.detect..", "io.pglockwatch.sql..")
			.check(MAIN);
	}

	@Test
	void layersPointDown() {
		layeredArchitecture().consideringOnlyDependenciesInLayers()
			.layer("core")
			.definedBy("io.pglockwatch.lock..", "io.pglockwatch.sql..", "io.pglockwatch.graph..",
					"io.pglockwatch.detect..")
			.layer("io")
			.definedBy("io.pglockwatch.poll..", "io.pglockwatch.cluster..", "io.pglockwatch.fleet..",
					"io.pglockwatch.incident..",
					"io.pglockwatch.alert..", "io.pglockwatch.guard..", "io.pglockwatch.preflight..",
					"io.pglockwatch.metrics..")
			.layer("web")
			.definedBy("io.pglockwatch.api..", "io.pglockwatch.dashboard..", "io.pglockwatch.security..")
			.whereLayer("web")
			.mayNotBeAccessedByAnyLayer()
			.whereLayer("io")
			.mayOnlyBeAccessedByLayers("web")
			.check(MAIN);
	}

	@Test
	void theWebKeepsItsOwnArrows() {
		// pages reuse the API's views; the API never reaches into pages, and security knows neither
		noClasses().that()
			.resideInAPackage("io.pglockwatch.api..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage("io.pglockwatch.dashboard..")
			.check(MAIN);
		noClasses().that()
			.resideInAPackage("io.pglockwatch.security..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.pglockwatch.api..", "io.pglockwatch.dashboard..")
			.check(MAIN);
	}

	@Test
	void pollIsTheBottomOfTheIoLayer() {
		// every other I/O part listens to polls; the poller knows none of them
		noClasses().that()
			.resideInAPackage("io.pglockwatch.poll..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.pglockwatch.incident..", "io.pglockwatch.alert..", "io.pglockwatch.guard..",
					"io.pglockwatch.preflight..", "io.pglockwatch.metrics..")
			.check(MAIN);
	}

	@Test
	void clusterKnowsNoneOfTheWritersItFences() {
		// the recorder, the outbox and the guard fence their writes through cluster; it never calls them back
		noClasses().that()
			.resideInAPackage("io.pglockwatch.cluster..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.pglockwatch.incident..", "io.pglockwatch.alert..", "io.pglockwatch.guard..",
					"io.pglockwatch.preflight..", "io.pglockwatch.metrics..")
			.check(MAIN);
	}

	@Test
	void noCyclesBetweenPackages() {
		slices().matching("io.pglockwatch.(*)..").should().beFreeOfCycles().check(MAIN);
	}

}
