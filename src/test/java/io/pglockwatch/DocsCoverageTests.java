package io.pglockwatch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pglockwatch.sql.QueryTextMode;
import io.pglockwatch.testsupport.PropertyPaths;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the documentation in step with the code.
 * <ul>
 * <li>docs/configuration.md documents every property of the configuration metadata that spring-boot-configuration-processor generates from the properties records in a table
 * row of its own, with its environment variable and its default. Lists are written
 * {@code pglockwatch.targets[N].name} ({@code PGLOCKWATCH_TARGETS_N_NAME}).</li>
 * <li>docs/metrics.md documents every {@code pglockwatch_} metric family, series name, label and label value that
 * the running service exports, and every family has help text. The service is started with one target that
 * refuses connections: every series exists from startup, so nothing needs to be polled.</li>
 * <li>README.md links every document and shows the two commands it promises.</li>
 * </ul>
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "pglockwatch.targets[0].name=docs", "pglockwatch.targets[0].url=jdbc:postgresql://127.0.0.1:1/docs",
				"pglockwatch.poll.interval=10s", "spring.datasource.url=jdbc:h2:mem:docs-coverage;DB_CLOSE_DELAY=-1" })
class DocsCoverageTests {

	private static final Path CONFIGURATION = Path.of("docs", "configuration.md");

	private static final Path METRICS = Path.of("docs", "metrics.md");

	private static final Pattern COMMENT = Pattern.compile("^# (HELP|TYPE) (\\S+) ?(.*)$");

	private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? \\S+.*$");

	private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

	@Autowired
	PrometheusMeterRegistry registry;

	// configuration.md

	@Test
	void everyPropertyIsDocumentedWithItsEnvironmentVariable() throws IOException {
		String doc = read(CONFIGURATION);
		Map<String, String> properties = properties();
		assertThat(properties).containsKeys("pglockwatch.poll.statement-timeout", "pglockwatch.targets[N].url",
				"pglockwatch.query-text");
		List<String> missing = new ArrayList<>();
		properties.keySet().forEach((property) -> {
			if (!doc.contains("`" + property + "`")) {
				missing.add(property);
			}
			if (!doc.contains("`" + environmentVariable(property) + "`")) {
				missing.add(environmentVariable(property));
			}
		});
		assertThat(missing).as("properties or environment variables missing from " + CONFIGURATION).isEmpty();
	}

	@Test
	void everyPropertyHasOneTableRowThatShowsItsDefault() throws IOException {
		List<String> rows = read(CONFIGURATION).lines().filter((line) -> line.startsWith("|")).toList();
		properties().forEach((property, defaultValue) -> {
			List<String> row = rows.stream().filter((line) -> firstCell(line).equals("`" + property + "`")).toList();
			assertThat(row).as("table rows of " + property + " in " + CONFIGURATION).hasSize(1);
			assertThat(row.get(0)).as("environment variable of " + property)
				.contains("`" + environmentVariable(property) + "`");
			if (defaultValue != null && !defaultValue.isEmpty()) {
				assertThat(row.get(0)).as("default of " + property).contains("`" + defaultValue + "`");
			}
		});
	}

	@Test
	void everyQueryTextModeIsDocumented() throws IOException {
		String doc = read(CONFIGURATION);
		for (QueryTextMode mode : QueryTextMode.values()) {
			assertThat(doc).contains("| `" + mode.name().toLowerCase(Locale.ROOT) + "` |");
		}
	}

	/** Every property path from the configuration metadata, with its default (null when it has none), in name order. */
	static Map<String, String> properties() {
		return PropertyPaths.all();
	}

	@Test
	void noDocumentedPropertyIsUnknownToTheService() throws IOException {
		List<String> documented = read(CONFIGURATION).lines()
			.filter((line) -> line.startsWith("| `pglockwatch."))
			.map((line) -> firstCell(line).replace("`", ""))
			.toList();
		assertThat(documented).isNotEmpty();
		assertThat(properties().keySet()).containsAll(documented);
	}

	/**
	 * Spring's relaxed binding: {@code pglockwatch.targets[N].url} is {@code PGLOCKWATCH_TARGETS_N_URL},
	 * {@code pglockwatch.poll.statement-timeout} is {@code PGLOCKWATCH_POLL_STATEMENT_TIMEOUT} (Spring also binds
	 * {@code PGLOCKWATCH_POLL_STATEMENTTIMEOUT}; the docs use the first form).
	 */
	static String environmentVariable(String property) {
		return property.replace("[N]", "_N").replace('.', '_').replace('-', '_').toUpperCase(Locale.ROOT);
	}

	private static String firstCell(String row) {
		String[] cells = row.split("\\|");
		return cells.length > 1 ? cells[1].trim() : "";
	}

	// metrics.md

	@Test
	void everyMetricFamilyIsDocumented() throws IOException {
		String doc = read(METRICS);
		Set<String> families = families().keySet();
		assertThat(families).contains("pglockwatch_target_up", "pglockwatch_ddl_queue_depth",
				"pglockwatch_poll_failures_total");
		assertThat(families.stream().filter((name) -> !doc.contains("`" + name + "`")).toList())
			.as("metric families missing from " + METRICS)
			.isEmpty();
	}

	@Test
	void everySeriesNameIsDocumented() throws IOException {
		String doc = read(METRICS);
		Set<String> names = new TreeSet<>();
		samples().forEach((sample) -> names.add(sample.name()));
		assertThat(names).contains("pglockwatch_poll_duration_seconds_count", "pglockwatch_poll_duration_seconds_sum");
		assertThat(names.stream().filter((name) -> !doc.contains("`" + name + "`")).toList())
			.as("series names (with _count, _sum, _max, _total) missing from " + METRICS)
			.isEmpty();
	}

	@Test
	void everyLabelAndLabelValueIsDocumented() throws IOException {
		String doc = read(METRICS);
		Set<String> missing = new TreeSet<>();
		for (Sample sample : samples()) {
			sample.labels().forEach((label, value) -> {
				if (!doc.contains("`" + label + "`")) {
					missing.add(label);
				}
				// target and shard values come from the configuration; every other label has a fixed set of values
				if (!label.equals("target") && !label.equals("shard") && !doc.contains("`" + value + "`")) {
					missing.add(label + "=" + value);
				}
			});
		}
		assertThat(missing).as("labels or label values missing from " + METRICS).isEmpty();
	}

	@Test
	void everyMetricFamilyHasHelpText() {
		Map<String, String> families = families();
		assertThat(families).isNotEmpty();
		families.forEach((name, help) -> assertThat(help).as("# HELP of " + name).isNotBlank());
	}

	/**
	 * Series about the instance itself (the poll start delay, the incident store, the members it sees, its fenced
	 * writes), not about one
	 * target, channel or shard.
	 */
	private static boolean instanceWide(Sample sample) {
		return sample.name().startsWith("pglockwatch_poll_start_delay_seconds")
				|| sample.name().startsWith("pglockwatch_store_") || sample.name().equals("pglockwatch_cluster_members")
				|| sample.name().startsWith("pglockwatch_cluster_fenced_writes");
	}

	/** Series about the shards of the cluster: one per shard, with the label {@code shard}. */
	private static boolean perShard(Sample sample) {
		return sample.name().startsWith("pglockwatch_cluster_");
	}

	@Test
	void everySeriesCarriesTheTargetLabelOrIsPerAlertChannelOrShard() {
		assertThat(samples()).isNotEmpty().allSatisfy((sample) -> {
			if (instanceWide(sample)) {
				assertThat(sample.labels()).as(sample.name()).doesNotContainKey("target");
			}
			else if (perShard(sample)) {
				assertThat(sample.labels()).as(sample.name()).containsOnlyKeys("shard");
			}
			else if (sample.name().startsWith("pglockwatch_alert_")) {
				assertThat(sample.labels()).as(sample.name()).containsKey("channel").doesNotContainKey("target");
			}
			else {
				assertThat(sample.labels()).as(sample.name()).containsEntry("target", "docs");
			}
		});
	}

	@Test
	void theDocumentedSeriesCountPerTargetIsRight() throws IOException {
		long perTarget = samples().stream()
			.filter((s) -> !s.name().startsWith("pglockwatch_alert_") && !instanceWide(s) && !perShard(s))
			.count();
		assertThat(read(METRICS)).contains("One target has " + perTarget + " pg-lockwatch series.");
	}

	/** Family name from each {@code # TYPE} line, with its {@code # HELP} text (null when it has none). */
	private Map<String, String> families() {
		Map<String, String> help = new TreeMap<>();
		Set<String> typed = new TreeSet<>();
		this.registry.scrape().lines().map(COMMENT::matcher).filter(Matcher::matches).forEach((m) -> {
			if (!m.group(2).startsWith("pglockwatch_")) {
				return;
			}
			if (m.group(1).equals("HELP")) {
				help.put(m.group(2), m.group(3));
			}
			else {
				typed.add(m.group(2));
			}
		});
		Map<String, String> result = new TreeMap<>();
		typed.forEach((name) -> result.put(name, help.get(name)));
		return result;
	}

	private List<Sample> samples() {
		List<Sample> samples = new ArrayList<>();
		this.registry.scrape().lines().filter((line) -> line.startsWith("pglockwatch_")).forEach((line) -> {
			Matcher m = SAMPLE.matcher(line);
			assertThat(m.matches()).as("sample line " + line).isTrue();
			Map<String, String> labels = new TreeMap<>();
			if (m.group(3) != null) {
				Matcher label = LABEL.matcher(m.group(3));
				while (label.find()) {
					labels.put(label.group(1), label.group(2));
				}
			}
			samples.add(new Sample(m.group(1), labels));
		});
		return samples;
	}

	private record Sample(String name, Map<String, String> labels) {
	}

	// README.md

	@Test
	void readmeShowsItsTwoCommandsAndLinksEveryDocument() throws IOException {
		String readme = read(Path.of("README.md"));
		assertThat(readme).contains("mvn spring-boot:test-run", "mvn -B -ntp verify");
		assertThat(read(Path.of(".ci", "run"))).as("the README's test command is the one CI runs")
			.contains("mvn -B -ntp verify");
		try (Stream<Path> docs = Files.list(Path.of("docs"))) {
			docs.filter((p) -> p.toString().endsWith(".md"))
				.forEach((p) -> assertThat(readme).as("README.md links " + p).contains("(docs/" + p.getFileName() + ")"));
		}
	}

	private static String read(Path path) throws IOException {
		assertThat(path).as(path + ", read from the project root").exists();
		return Files.readString(path, StandardCharsets.UTF_8);
	}

}
