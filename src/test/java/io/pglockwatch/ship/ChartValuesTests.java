package io.pglockwatch.ship;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * values.schema.json describes every value of values.yaml, refuses a wrong values file with a message that names
 * the value, and the chart's README documents every value as values.yaml and the schema do.
 *
 * <p>The wrong values files are in {@code src/test/resources/chart/bad-values}, not in the chart's {@code ci/},
 * where chart-testing ({@code ct lint}) would expect them to pass. Each says what Helm must answer in
 * {@code # expect:} lines.
 */
class ChartValuesTests {

	static final Path BAD_VALUES = Path.of("src", "test", "resources", "chart", "bad-values");

	private static final String EXPECT = "# expect: ";

	/** Kubernetes objects passed through to the pod spec as written: they may hold any field Kubernetes knows. */
	private static final Set<String> KUBERNETES_OBJECTS = Set.of("podSecurityContext", "podSecurityContext.seccompProfile",
			"securityContext", "securityContext.capabilities", "securityContext.seccompProfile", "resources",
			"resources.requests", "resources.limits");

	static Stream<Path> badValues() throws IOException {
		try (Stream<Path> files = Files.list(BAD_VALUES)) {
			return files.filter((p) -> p.getFileName().toString().endsWith("-values.yaml")).sorted().toList().stream();
		}
	}

	static Stream<Path> badValuesTheSchemaRefuses() throws IOException {
		List<Path> refused = new ArrayList<>();
		for (Path values : badValues().toList()) {
			if (expectations(values).stream().allMatch((e) -> e.startsWith("at '"))) {
				refused.add(values);
			}
		}
		return refused.stream();
	}

	// values.schema.json

	@Test
	void theSchemaIsDraft07AndRefusesUnknownTopLevelKeys() throws IOException {
		JsonNode schema = ValuesReference.ofChart().schema();
		assertThat(schema.path("$schema").asString()).isEqualTo("http://json-schema.org/draft-07/schema#");
		assertThat(schema.path("additionalProperties").isBoolean() && !schema.path("additionalProperties").asBoolean()).isTrue();
	}

	@Test
	void everyValueHasATypedSchemaDescribedByItsComment() throws IOException {
		ValuesReference values = ValuesReference.ofChart();
		assertThat(values.paths()).hasSizeGreaterThan(150).containsKeys("replicaCount", "store.type",
				"config.poll.interval", "metrics.prometheusRule.monitorDown.absentFor");
		List<String> problems = new ArrayList<>();
		values.paths().forEach((path, comment) -> {
			JsonNode schema = values.schemaOf(path);
			if (schema.isMissingNode()) {
				problems.add(path + ": not in values.schema.json");
				return;
			}
			if (!schema.has("type")) {
				problems.add(path + ": no type");
			}
			if (!comment.equals(schema.path("description").asString(""))) {
				problems.add(path + ": description is not values.yaml's comment \"" + comment + "\"");
			}
			boolean closed = schema.path("additionalProperties").isBoolean() && !schema.path("additionalProperties").asBoolean();
			if (schema.has("properties") && !closed && !KUBERNETES_OBJECTS.contains(path)) {
				problems.add(path + ": an object of the chart without additionalProperties: false (a misspelt key would pass)");
			}
		});
		assertThat(problems).as("values.yaml keys vs values.schema.json").isEmpty();
	}

	@Test
	void everySchemaPropertyOfAValuesSectionIsInValuesYaml() throws IOException {
		ValuesReference values = ValuesReference.ofChart();
		List<String> unknown = new ArrayList<>();
		Set<String> paths = values.paths().keySet();
		paths.forEach((path) -> {
			boolean section = paths.stream().anyMatch((p) -> p.startsWith(path + "."));
			values.schemaOf(path).path("properties").propertyNames().forEach((key) -> {
				JsonNode property = values.schemaOf(path).path("properties").path(key);
				// an untyped property is one the templates refuse with a message of their own (secrets under config)
				if (section && property.has("type") && !paths.contains(path + "." + key)) {
					unknown.add(path + "." + key);
				}
			});
		});
		// lists of pglockwatch.* that belong in config but have no default to show in values.yaml
		// (scopes has a default, but its comment in values.yaml says how to set it rather than repeating it)
		assertThat(unknown).containsExactly("config.security.api-tokens", "config.security.oidc.scopes");
	}

	// wrong values files

	@ParameterizedTest
	@MethodSource("badValues")
	void aWrongValuesFileFailsTemplateWithAMessageNamingTheValue(Path values) throws IOException {
		List<String> expected = expectations(values);
		assertThatThrownBy(() -> HelmChart.render(values)).satisfies((e) -> assertThat(e.getMessage()).contains(expected));
	}

	/**
	 * The schema's refusals (messages {@code at '/path': ...}) fail {@code helm lint} too. A template's {@code fail}
	 * does not: Helm renders templates for lint in a mode where {@code fail} is only logged.
	 */
	@ParameterizedTest
	@MethodSource("badValuesTheSchemaRefuses")
	void aWrongValuesFileFailsLintWithAMessageNamingTheValue(Path values, @TempDir Path tmp) throws IOException {
		LintResult result = HelmChart.lint(values, tmp);
		assertThat(result.isFailed()).as(values + " lints clean").isTrue();
		assertThat(String.join("\n", result.getMessages())).contains(expectations(values));
	}

	@Test
	void thereAreWrongValuesFiles() throws IOException {
		assertThat(badValues().map((p) -> p.getFileName().toString())).contains("replicas-on-h2-values.yaml",
				"misspelt-keys-values.yaml", "wrong-enums-values.yaml");
	}

	// README.md

	@Test
	void theReadmeDocumentsEveryValueAsValuesYamlAndTheSchemaDo() throws IOException {
		if (ValuesReference.updateRequested()) {
			ValuesReference.updateReadme();
		}
		String readme = Files.readString(HelmChart.README, StandardCharsets.UTF_8);
		String table = ValuesReference.ofChart().table();
		assertThat(ValuesReference.withTable(readme, table))
			.as(HelmChart.README + "'s values table is stale; regenerate it with "
					+ "mvn -o test -Dtest=ChartValuesTests -Dchart.readme.update=true, then review the diff")
			.isEqualTo(readme);
		assertThat(table).contains("| `replicaCount` | integer | `1` |", "| `store.type` | string: `h2`, `postgresql` | `h2` |");
	}

	private static List<String> expectations(Path values) throws IOException {
		List<String> expected = Files.readAllLines(values, StandardCharsets.UTF_8).stream()
			.filter((line) -> line.startsWith(EXPECT))
			.map((line) -> line.substring(EXPECT.length()).strip())
			.toList();
		assertThat(expected).as(values + " says what Helm must answer in " + EXPECT + "lines").isNotEmpty();
		return expected;
	}

}
