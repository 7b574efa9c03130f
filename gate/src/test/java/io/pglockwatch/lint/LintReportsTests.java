package io.pglockwatch.lint;

import java.util.List;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

class LintReportsTests {

	private static final JsonMapper MAPPER = JsonMapper.builder().build();

	private static List<Finding> findings() {
		return Lint.lint("db/migration/V3__index.sql",
				"SET lock_timeout = '2s';\nCREATE INDEX i ON orders (a);\nVACUUM FULL orders;");
	}

	@Test
	void sarifHasTheRequiredFields() {
		JsonNode log = MAPPER.readTree(LintReports.sarif(findings()));
		assertThat(log.path("version").asString()).isEqualTo("2.1.0");
		assertThat(log.path("$schema").asString()).contains("sarif-2.1.0");
		JsonNode run = log.path("runs").get(0);
		JsonNode driver = run.path("tool").path("driver");
		assertThat(driver.path("name").asString()).isEqualTo("pg-lockwatch-lint");
		assertThat(driver.path("rules")).hasSize(Rule.values().length);
		for (JsonNode rule : driver.path("rules")) {
			String id = rule.path("id").asString();
			assertThat(Rule.byId(id)).isNotNull();
			assertThat(rule.path("shortDescription").path("text").asString()).isNotBlank();
			assertThat(rule.path("helpUri").asString()).isEqualTo("docs/lint.md#" + id);
			assertThat(rule.path("defaultConfiguration").path("level").asString()).isIn("error", "warning");
		}
		JsonNode results = run.path("results");
		assertThat(results).hasSize(2);
		JsonNode first = results.get(0);
		assertThat(first.path("ruleId").asString()).isEqualTo("index-without-concurrently");
		assertThat(driver.path("rules").get(first.path("ruleIndex").asInt()).path("id").asString())
			.isEqualTo("index-without-concurrently");
		assertThat(first.path("level").asString()).isEqualTo("warning");
		assertThat(first.path("message").path("text").asString()).contains("ShareLock", "writes");
		JsonNode location = first.path("locations").get(0).path("physicalLocation");
		assertThat(location.path("artifactLocation").path("uri").asString()).isEqualTo("db/migration/V3__index.sql");
		assertThat(location.path("region").path("startLine").asInt()).isEqualTo(2);
		assertThat(results.get(1).path("level").asString()).isEqualTo("error");
	}

	@Test
	void sarifHelpUriCanBeAbsolute() {
		JsonNode log = MAPPER.readTree(LintReports.sarif(List.of(), "https://example.com/repo/docs/lint.md"));
		assertThat(log.path("runs").get(0).path("tool").path("driver").path("rules").get(0).path("helpUri")
			.asString()).isEqualTo("https://example.com/repo/docs/lint.md#index-without-concurrently");
		assertThat(log.path("runs").get(0).path("results")).isEmpty();
	}

	@Test
	void jsonIsAnArrayWithStableFieldNames() {
		JsonNode array = MAPPER.readTree(LintReports.json(findings()));
		assertThat(array.isArray()).isTrue();
		JsonNode f = array.get(0);
		assertThat(f.propertyNames()).containsExactly("file", "line", "column", "statement", "rule", "severity",
				"lockMode", "relation", "blocks", "message", "safeAlternative", "docs");
		assertThat(f.path("lockMode").asString()).isEqualTo("ShareLock");
		assertThat(f.path("blocks").asString()).isEqualTo("writes");
		assertThat(f.path("line").asInt()).isEqualTo(2);
		assertThat(MAPPER.readTree(LintReports.json(List.of())).size()).isZero();
	}

	@Test
	void textNamesEverything() {
		String text = LintReports.text(findings());
		assertThat(text).contains("db/migration/V3__index.sql:2:1: warning [index-without-concurrently]",
				"statement: CREATE INDEX i ON orders (a)", "lock:      ShareLock on orders (blocks writes)",
				"safe way:", "docs/lint.md#index-without-concurrently", "2 findings (1 errors, 1 warnings)");
		assertThat(LintReports.text(List.of())).isEqualTo("no findings\n");
	}

	@Test
	void quotesAndControlCharactersAreEscaped() {
		List<Finding> findings = Lint.lint("a \"b\".sql", "CREATE INDEX \"q\"\"x\" ON \"we\"\"ird\tt\" (a);");
		JsonNode array = MAPPER.readTree(LintReports.json(findings));
		assertThat(array.get(0).path("file").asString()).isEqualTo("a \"b\".sql");
		assertThat(array.get(0).path("relation").asString()).isEqualTo("\"we\"\"ird\tt\"");
		assertThat(MAPPER.readTree(LintReports.sarif(findings)).path("runs").get(0).path("results").get(0)
			.path("locations").get(0).path("physicalLocation").path("artifactLocation").path("uri").asString())
			.isEqualTo("a%20%22b%22.sql");
	}

}
