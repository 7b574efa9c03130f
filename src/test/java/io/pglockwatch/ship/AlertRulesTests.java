package io.pglockwatch.ship;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import static io.pglockwatch.ship.HelmChart.map;
import static io.pglockwatch.ship.HelmChart.maps;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The alerts of the chart's PrometheusRule, as Prometheus evaluates them: the rule is rendered with
 * {@code ci/monitoring-on-values.yaml}, its {@code spec.groups} written as a Prometheus rules file, checked with
 * {@code promtool check rules} and run through the unit tests of
 * {@code src/test/resources/prometheus/pg-lockwatch-rules-test.yaml} with {@code promtool test rules}.
 *
 * <p>promtool comes from Debian's {@code prometheus} package, which {@code .ci/run} installs; without it these tests
 * fail and say so. {@code -Dpromtool=/path/to/promtool} points at another binary.
 */
class AlertRulesTests {

	static final Path UNIT_TESTS = Path.of("src", "test", "resources", "prometheus", "pg-lockwatch-rules-test.yaml");

	private static final Path OUT = Path.of("target", "prometheus");

	private static final Path RULES = OUT.resolve("pg-lockwatch-rules.yaml");

	private static Map<String, Map<String, Object>> rules;

	@BeforeAll
	static void renderTheRuleAsAPrometheusRulesFile() throws IOException {
		HelmChart.Manifests chart = HelmChart.render(HelmChart.CI.resolve("monitoring-on-values.yaml"));
		rules = MonitoringAssetsTests.rules(chart);
		Map<String, Object> rule = chart.get("PrometheusRule", HelmChart.FULLNAME);
		DumperOptions options = new DumperOptions();
		options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
		options.setWidth(200);
		Files.createDirectories(OUT);
		Files.writeString(RULES, new Yaml(options).dump(Map.of("groups", HelmChart.list(rule, "spec", "groups"))),
				StandardCharsets.UTF_8);
		// rule_files in the unit tests are relative to the unit test file
		Files.copy(UNIT_TESTS, OUT.resolve(UNIT_TESTS.getFileName()), StandardCopyOption.REPLACE_EXISTING);
	}

	@Test
	void theRenderedRulesPassPromtoolCheck() throws Exception {
		Result check = promtool("check", "rules", RULES.toString());
		assertThat(check.exitCode()).as(check.output()).isZero();
		assertThat(check.output()).contains("SUCCESS: " + rules.size() + " rules found");
	}

	@Test
	void everyAlertPassesItsPromtoolUnitTests() throws Exception {
		Result test = promtool("test", "rules", OUT.resolve(UNIT_TESTS.getFileName()).toString());
		assertThat(test.exitCode()).as("promtool test rules " + UNIT_TESTS + "\n" + test.output()).isZero();
		assertThat(test.output()).contains("SUCCESS");
	}

	/**
	 * A new alert needs unit tests: each alert of the rendered rule fires in a test, with its labels and every
	 * annotation it has (the description carries the runbook reference), and stays quiet in another check (before
	 * its {@code for} has passed, or while healthy). And no test names an alert the rule no longer has.
	 */
	@Test
	void everyAlertOfTheRuleHasUnitTestsThatSeeItFireAndStayQuiet() throws IOException {
		assertThat(rules).hasSizeGreaterThanOrEqualTo(10);
		Set<String> firing = new TreeSet<>();
		Set<String> quiet = new TreeSet<>();
		List<String> problems = new ArrayList<>();
		for (Map<String, Object> test : maps(HelmChart.loadYaml(UNIT_TESTS), "tests")) {
			for (Map<String, Object> check : maps(test, "alert_rule_test")) {
				String alert = String.valueOf(check.get("alertname"));
				Map<String, Object> rule = rules.get(alert);
				if (rule == null) {
					problems.add(test.get("name") + ": no alert " + alert + " in the rendered rule");
					continue;
				}
				List<Map<String, Object>> expected = maps(check, "exp_alerts");
				(expected.isEmpty() ? quiet : firing).add(alert);
				for (Map<String, Object> alertExpected : expected) {
					Map<String, Object> labels = map(alertExpected, "exp_labels");
					map(rule, "labels").forEach((name, value) -> {
						if (!String.valueOf(value).equals(String.valueOf(labels.get(name)))) {
							problems.add(alert + " at " + check.get("eval_time") + ": label " + name + " is not " + value);
						}
					});
					Map<String, Object> annotations = map(alertExpected, "exp_annotations");
					if (!annotations.keySet().equals(map(rule, "annotations").keySet())) {
						problems.add(alert + " at " + check.get("eval_time") + ": annotations " + annotations.keySet()
								+ ", the rule has " + map(rule, "annotations").keySet());
					}
					if (!String.valueOf(annotations.get("description")).contains("docs/runbook.md")) {
						problems.add(alert + " at " + check.get("eval_time") + ": description without the runbook");
					}
				}
			}
		}
		assertThat(problems).isEmpty();
		assertThat(firing).as("alerts seen firing in " + UNIT_TESTS).isEqualTo(new TreeSet<>(rules.keySet()));
		assertThat(quiet).as("alerts seen quiet in " + UNIT_TESTS).isEqualTo(firing);
	}

	record Result(int exitCode, String output) {
	}

	private static Result promtool(String... args) throws IOException, InterruptedException {
		List<String> command = new ArrayList<>();
		command.add(promtoolBinary());
		command.addAll(List.of(args));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command) + " finishes").isTrue();
		return new Result(process.exitValue(), output);
	}

	private static String promtoolBinary() {
		String configured = System.getProperty("promtool");
		if (configured != null && !configured.isBlank()) {
			return configured;
		}
		for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
			Path candidate = Path.of(dir, "promtool");
			if (Files.isExecutable(candidate)) {
				return candidate.toString();
			}
		}
		throw new AssertionError("promtool is not on the PATH. It tests the chart's alert rules; on Debian or Ubuntu "
				+ "install it with `apt-get install prometheus` (.ci/run does), or pass -Dpromtool=/path/to/promtool.");
	}

}
