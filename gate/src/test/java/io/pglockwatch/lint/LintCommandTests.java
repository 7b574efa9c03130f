package io.pglockwatch.lint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

class LintCommandTests {

	@TempDir
	Path dir;

	private final ByteArrayOutputStream out = new ByteArrayOutputStream();

	private final ByteArrayOutputStream err = new ByteArrayOutputStream();

	private int run(String... args) {
		return LintCommand.run(args, new PrintStream(this.out, true, StandardCharsets.UTF_8),
				new PrintStream(this.err, true, StandardCharsets.UTF_8));
	}

	private String out() {
		return this.out.toString(StandardCharsets.UTF_8);
	}

	private String err() {
		return this.err.toString(StandardCharsets.UTF_8);
	}

	private Path file(String name, String sql) throws IOException {
		return Files.writeString(this.dir.resolve(name), sql);
	}

	@Test
	void noFindingsExitsZero() throws IOException {
		file("V1__new.sql", "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);");
		assertThat(run(this.dir.toString())).isZero();
		assertThat(out()).isEqualTo("no findings\n");
	}

	@Test
	void findingsExitOne() throws IOException {
		Path v1 = file("V1__add.sql", "ALTER TABLE t ADD COLUMN c int;");
		assertThat(run(v1.toString())).isEqualTo(1);
		assertThat(out()).contains("[strong-lock-without-lock-timeout]", "V1__add.sql:1:1");
	}

	@Test
	void theGateFlagSilencesTheLockTimeoutRule() throws IOException {
		Path v1 = file("V1__add.sql", "ALTER TABLE t ADD COLUMN c int;");
		assertThat(run("--gate", v1.toString())).isZero();
	}

	@Test
	void failOnErrorIgnoresWarnings() throws IOException {
		Path warning = file("V1__add.sql", "ALTER TABLE t ADD COLUMN c int;");
		assertThat(run("--fail-on", "error", warning.toString())).isZero();
		Path error = file("V2__vacuum.sql", "VACUUM FULL t;");
		assertThat(run("--fail-on=error", error.toString())).isEqualTo(1);
	}

	@Test
	void jsonAndSarifFormats() throws IOException {
		Path v1 = file("V1__add.sql", "ALTER TABLE t ADD COLUMN c int;");
		assertThat(run("--format", "json", v1.toString())).isEqualTo(1);
		JsonNode json = JsonMapper.builder().build().readTree(out());
		assertThat(json.get(0).path("rule").asString()).isEqualTo("strong-lock-without-lock-timeout");
		this.out.reset();
		assertThat(run("--format=sarif", v1.toString())).isEqualTo(1);
		JsonNode sarif = JsonMapper.builder().build().readTree(out());
		assertThat(sarif.path("runs").get(0).path("results").get(0).path("ruleId").asString())
			.isEqualTo("strong-lock-without-lock-timeout");
	}

	@Test
	void outputGoesToAFile() throws IOException {
		Path v1 = file("V1__add.sql", "ALTER TABLE t ADD COLUMN c int;");
		Path report = this.dir.resolve("reports/lint.sarif");
		assertThat(run("--format", "sarif", "--output", report.toString(), v1.toString())).isEqualTo(1);
		assertThat(out()).isEmpty();
		assertThat(Files.readString(report)).contains("\"version\" : \"2.1.0\"");
		assertThat(err()).contains("report in " + report);
	}

	@Test
	void usageErrorsExitTwoAndNameTheProblem() throws IOException {
		assertThat(run()).isEqualTo(2);
		assertThat(err()).contains("no migration file or directory given", "usage:");
		this.err.reset();
		assertThat(run("--format", "xml", "x.sql")).isEqualTo(2);
		assertThat(err()).contains("--format xml: expected text, json or sarif");
		this.err.reset();
		assertThat(run("--verbose", "x.sql")).isEqualTo(2);
		assertThat(err()).contains("unknown option --verbose");
		this.err.reset();
		assertThat(run("--output")).isEqualTo(2);
		assertThat(err()).contains("--output needs a value");
		this.err.reset();
		assertThat(run(this.dir.resolve("missing.sql").toString())).isEqualTo(2);
		assertThat(err()).contains("no such file or directory: " + this.dir.resolve("missing.sql"));
		this.err.reset();
		Path broken = file("V9__broken.sql", "SELECT 'unterminated;");
		assertThat(run(broken.toString())).isEqualTo(2);
		assertThat(err()).contains("V9__broken.sql:1: unterminated string constant");
		this.err.reset();
		assertThat(run("--fail-on", "info", "x.sql")).isEqualTo(2);
		assertThat(err()).contains("--fail-on info");
	}

	@Test
	void helpExitsZero() {
		assertThat(run("--help")).isZero();
		assertThat(out()).contains("exit codes: 0 no findings, 1 findings, 2 usage or I/O error");
	}

	@Test
	void assertionsFailWithTheReport() throws IOException {
		Path v1 = file("V1__add.sql", "ALTER TABLE t ADD COLUMN c int;");
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> LintAssertions.assertNoFindings(v1))
			.isInstanceOf(AssertionError.class)
			.hasMessageContaining("1 problem")
			.hasMessageContaining("[strong-lock-without-lock-timeout]");
		LintAssertions.assertNoFindings(Lint.Options.defaults().withGateManaged(true), v1);
	}

}
