package io.pglockwatch.ship;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.alert.AlertProperties;
import io.pglockwatch.poll.TargetsProperties;
import io.pglockwatch.security.SecurityProperties;
import io.pglockwatch.ship.HelmChart.Manifests;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static io.pglockwatch.ship.HelmChart.at;
import static io.pglockwatch.ship.HelmChart.map;
import static io.pglockwatch.ship.HelmChart.maps;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The monitoring assets name only metrics the service really exports: every metric in the PrometheusRule (rendered
 * with monitoring on) and in the Grafana dashboard must be in a scrape of the running service. The dashboard cannot
 * show a blank panel for another reason either: every variable it uses is defined, every variable's query lists a
 * label of an exported metric, and every panel takes its data source from the datasource variable. How the alerts
 * behave is {@link AlertRulesTests}'s part.
 *
 * <p>The service is started from the application.yaml that the chart's ConfigMap holds for the monitoring variant,
 * the way the pod starts (spring.config.additional-location), with the Secret-backed placeholders given as
 * arguments: so this also proves that the chart's configuration passes pg-lockwatch's strict binding. The target
 * is a real PostgreSQL; PagerDuty is on with a dummy key and an endpoint that refuses connections, so the alert
 * metrics are registered too. Only what a pod gets from its environment differs: the in-memory store, random
 * ports, and the endpoints of this test.
 */
class MonitoringAssetsTests {

	private static final String ROUTING_KEY = "dummyR0utingKey00000000000000000";

	private static final String TARGET_PASSWORD = "target-password-from-secret";

	/** Metrics of the rules that are not pg-lockwatch's: Prometheus' own scrape health. */
	private static final Set<String> PROMETHEUS_METRICS = Set.of("up");

	private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without", "on",
			"ignoring", "group_left", "group_right", "inf", "nan");

	private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ].*");

	private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) .*");

	private static final HttpClient http = HttpClient.newHttpClient();

	@TempDir
	static Path tmp;

	private static ConfigurableApplicationContext app;

	private static Manifests chart;

	private static String scrape;

	@BeforeAll
	static void startTheServiceFromTheChartsConfiguration() throws Exception {
		PostgresServer server = PostgresServer.shared();
		server.installFixtures(PostgresServer.DEFAULT_DATABASE);
		Path values = HelmChart.CI.resolve("monitoring-on-values.yaml");
		chart = HelmChart.render(values, Map.of("targets[0].url", server.jdbcUrl(PostgresServer.DEFAULT_DATABASE),
				"targets[0].username", server.superuser()));
		Path config = tmp.resolve("application.yaml");
		Files.writeString(config, chart.applicationYamlText(), StandardCharsets.UTF_8);
		String userHash = (String) at(HelmChart.loadYaml(values), "users", 0, "passwordHash");

		Map<String, String> args = new LinkedHashMap<>();
		args.put("spring.config.additional-location", "file:" + config.toAbsolutePath());
		args.put("spring.main.web-application-type", "servlet");
		args.put("server.port", "0");
		// the chart sets management.server.port (9090); any free port here
		args.put("management.server.port", "0");
		// the pod's /app/data volume does not exist here
		args.put("spring.datasource.url", "jdbc:h2:mem:ship-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
		// what the Deployment's secretKeyRef environment variables carry
		args.put("PGLW_TARGET_0_PASSWORD", TARGET_PASSWORD);
		args.put("PGLW_USER_0_PASSWORD_HASH", userHash);
		args.put("pglockwatch.alerts.pagerduty.routing-key", ROUTING_KEY);
		args.put("pglockwatch.alerts.pagerduty.url", "http://127.0.0.1:" + refusedPort() + "/v2/enqueue");
		app = new SpringApplicationBuilder(PgLockwatchApplication.class)
			.run(args.entrySet().stream().map((e) -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
		scrape = get(management("/actuator/prometheus")).body();
	}

	@AfterAll
	static void stop() {
		if (app != null) {
			app.close();
		}
	}

	// the service the chart configures

	@Test
	void theChartsConfigurationBindsWithItsSecretsFromTheEnvironment() {
		TargetsProperties targets = app.getBean(TargetsProperties.class);
		assertThat(targets.targets()).hasSize(1);
		assertThat(targets.targets().get(0).name()).isEqualTo("orders");
		assertThat(targets.targets().get(0).password()).isEqualTo(TARGET_PASSWORD);
		SecurityProperties security = app.getBean(SecurityProperties.class);
		assertThat(security.loginRequired()).isTrue();
		assertThat(security.users()).singleElement()
			.satisfies((u) -> assertThat(u.passwordHash()).startsWith("$2a$10$"));
		AlertProperties alerts = app.getBean(AlertProperties.class);
		assertThat(alerts.pagerduty().enabled()).isTrue();
		assertThat(alerts.dashboardUrl()).isEqualTo("https://pglockwatch.example.com");
	}

	@Test
	void probesAndMetricsAnswerWithoutLoginWhileTheApiRequiresOne() throws Exception {
		assertThat(get(management("/actuator/health/liveness")).statusCode()).isEqualTo(200);
		assertThat(get(management("/actuator/health/readiness")).statusCode()).isEqualTo(200);
		assertThat(get(management("/actuator/prometheus")).statusCode()).isEqualTo(200);
		assertThat(get(api("/api/v1/targets")).statusCode()).isEqualTo(401);
	}

	@Test
	void theTargetIsPolled() {
		await().atMost(Duration.ofSeconds(20))
			.until(() -> get(management("/actuator/prometheus")).body().contains("pglockwatch_target_up{target=\"orders\"} 1"));
	}

	// PrometheusRule

	@Test
	void everyMetricOfThePrometheusRuleIsExported() {
		Map<String, Set<String>> used = new TreeMap<>();
		rules(chart).forEach((name, rule) -> used.put(name, metricNames((String) rule.get("expr"))));
		Set<String> all = new TreeSet<>();
		used.values().forEach(all::addAll);
		assertThat(all).as("the extraction finds the metrics").contains("pglockwatch_ddl_queue_depth", "pglockwatch_target_up",
				"pglockwatch_poll_failures_total", "pglockwatch_alert_outbox_oldest_age_seconds",
				"pglockwatch_alert_events_total", "up");
		Set<String> exported = exported();
		used.forEach((rule, metrics) -> metrics.forEach((metric) -> assertThat(exported.contains(metric)
				|| PROMETHEUS_METRICS.contains(metric)).as(rule + " uses " + metric + ", which the service does not export").isTrue()));
		// `up` only where the monitor itself is the subject
		used.forEach((rule, metrics) -> {
			if (metrics.contains("up")) {
				assertThat(rule).isIn("PgLockwatchDown", "PgLockwatchAbsent");
			}
		});
	}

	// Grafana dashboard

	@Test
	void theDashboardInDocsIsTheOneTheChartShips() throws IOException {
		assertThat(Files.readString(Path.of("docs", "grafana-dashboard.json"), StandardCharsets.UTF_8))
			.as("docs/grafana-dashboard.json must be a copy of " + HelmChart.DASHBOARD)
			.isEqualTo(Files.readString(HelmChart.DASHBOARD, StandardCharsets.UTF_8));
	}

	@Test
	void everyMetricOfTheDashboardIsExported() throws IOException {
		JsonNode dashboard = dashboard();
		Set<String> exported = exported();
		List<String> expressions = expressions(dashboard);
		assertThat(expressions).hasSizeGreaterThan(10);
		Set<String> used = new TreeSet<>();
		expressions.forEach((e) -> used.addAll(metricNames(e)));
		assertThat(used).contains("pglockwatch_ddl_queue_depth", "pglockwatch_ddl_queue_wait_seconds", "pglockwatch_lock_waiters",
				"pglockwatch_lock_wait_max_seconds", "pglockwatch_root_blockers", "pglockwatch_incidents_open",
				"pglockwatch_poll_duration_seconds_sum", "pglockwatch_poll_duration_seconds_count", "pglockwatch_target_up",
				"pglockwatch_alert_outbox_oldest_age_seconds");
		assertThat(used).allSatisfy((metric) -> assertThat(exported).as("exported metrics").contains(metric));
	}

	@Test
	void theDashboardFiltersByTheTargetVariable() throws IOException {
		JsonNode dashboard = dashboard();
		JsonNode target = null;
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			if (variable.path("name").asString().equals("target")) {
				target = variable;
			}
		}
		assertThat(target).as("a `target` template variable").isNotNull();
		Matcher labelValues = Pattern.compile("label_values\\((\\w+), *target\\)").matcher(target.path("definition").asString());
		assertThat(labelValues.matches()).isTrue();
		assertThat(exported()).contains(labelValues.group(1));
		// every query of a per-target metric honours the selection (alert metrics have no target label)
		for (String expression : expressions(dashboard)) {
			boolean perTarget = metricNames(expression).stream().anyMatch((m) -> !m.startsWith("pglockwatch_alert_"));
			if (perTarget) {
				assertThat(expression).contains("target=~\"$target\"");
			}
		}
	}

	/**
	 * Every template variable a panel uses ({@code $target}, {@code ${datasource}}, {@code [[name]]}) is defined in
	 * the dashboard's templating, and so is every variable a variable uses. Grafana's own ({@code $__rate_interval})
	 * are not variables of the dashboard.
	 */
	@Test
	void everyVariableTheDashboardUsesIsDefined() throws IOException {
		JsonNode dashboard = dashboard();
		Map<String, JsonNode> variables = variables(dashboard);
		assertThat(variables).containsKeys("datasource", "target");
		Set<String> used = new TreeSet<>(variablesUsedIn(dashboard.path("panels").toString()));
		used.addAll(variablesUsedIn(dashboard.path("templating").toString()));
		assertThat(used).as("the extraction finds the variables").contains("datasource", "target");
		assertThat(used).allSatisfy((name) -> assertThat(variables).as("variable $" + name + " used by the dashboard").containsKey(name));
	}

	/**
	 * Every query variable names only metrics the service exports, and labels those metrics carry, so its list of
	 * values is never empty; a datasource variable selects Prometheus.
	 */
	@Test
	void everyVariableQueryNamesAnExportedMetricAndLabel() throws IOException {
		Pattern labelValues = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})?\\s*,\\s*(\\w+)\\s*\\)");
		Map<String, JsonNode> variables = variables(dashboard());
		assertThat(variables.values()).allSatisfy((variable) -> {
			String name = variable.path("name").asString();
			String type = variable.path("type").asString();
			switch (type) {
				case "datasource" -> assertThat(variable.path("query").asString()).as("$" + name + " plugin").isEqualTo("prometheus");
				case "query" -> {
					JsonNode query = variable.path("query");
					String expression = query.isObject() ? query.path("query").asString() : query.asString();
					assertThat(variable.path("definition").asString()).as("$" + name + " definition").isEqualTo(expression);
					Matcher m = labelValues.matcher(expression);
					assertThat(m.matches()).as("$" + name + ": " + expression + " (only label_values(metric, label) is checked here; "
							+ "teach this test another form before using it)").isTrue();
					assertThat(exported()).as("$" + name + " metric").contains(m.group(1));
					assertThat(labelsOf(m.group(1))).as("labels of " + m.group(1) + " for $" + name).contains(m.group(3));
					assertDatasourceResolves("variable $" + name, variable.path("datasource"), variables);
				}
				case "custom", "constant", "interval", "textbox" -> {
				}
				default -> throw new AssertionError("$" + name + " has type " + type + ", which this test does not check");
			}
		});
	}

	/**
	 * Every panel that queries names its data source through the datasource variable (a fixed uid would be blank in
	 * any other Grafana), and so does each of its queries that names one.
	 */
	@Test
	void everyPanelHasADatasourceThatResolves() throws IOException {
		JsonNode dashboard = dashboard();
		Map<String, JsonNode> variables = variables(dashboard);
		List<JsonNode> panels = new ArrayList<>();
		collectPanels(dashboard.path("panels"), panels);
		List<JsonNode> querying = panels.stream().filter((p) -> !p.path("targets").isEmpty()).toList();
		assertThat(querying).hasSizeGreaterThan(10);
		for (JsonNode panel : querying) {
			String title = "panel \"" + panel.path("title").asString() + "\"";
			assertDatasourceResolves(title, panel.path("datasource"), variables);
			for (JsonNode target : panel.path("targets")) {
				if (target.has("datasource")) {
					assertDatasourceResolves(title + " query " + target.path("refId").asString(), target.path("datasource"), variables);
				}
			}
		}
		assertThat(panels).filteredOn((p) -> p.path("targets").isEmpty())
			.allSatisfy((p) -> assertThat(p.path("type").asString()).as("a panel without queries").isIn("row", "text"));
	}

	private static void assertDatasourceResolves(String what, JsonNode datasource, Map<String, JsonNode> variables) {
		assertThat(datasource.isObject()).as(what + " has a datasource").isTrue();
		String uid = datasource.path("uid").asString();
		Matcher reference = Pattern.compile("\\$\\{(\\w+)}|\\$(\\w+)").matcher(uid);
		assertThat(reference.matches()).as(what + " datasource uid " + uid + " is a variable, not a fixed uid").isTrue();
		String name = (reference.group(1) != null) ? reference.group(1) : reference.group(2);
		JsonNode variable = variables.get(name);
		assertThat(variable).as(what + " datasource $" + name + " is defined").isNotNull();
		assertThat(variable.path("type").asString()).as(what + " datasource $" + name + " is a datasource variable").isEqualTo("datasource");
		assertThat(datasource.path("type").asString()).as(what + " datasource type").isEqualTo(variable.path("query").asString());
	}

		// helpers

	/** The PrometheusRule's alerts by name. */
	static Map<String, Map<String, Object>> rules(Manifests manifests) {
		Map<String, Map<String, Object>> rules = new LinkedHashMap<>();
		for (Map<String, Object> rule : manifests.ofKind("PrometheusRule")) {
			for (Map<String, Object> group : maps(rule, "spec", "groups")) {
				maps(group, "rules").forEach((r) -> rules.put(String.valueOf(r.get("alert")), r));
			}
		}
		return rules;
	}

	/**
	 * Metric names in a PromQL expression: identifiers that are not functions (followed by a parenthesis),
	 * keywords, label names (in matchers and in by/without/on/ignoring lists), durations, strings or Grafana
	 * variables.
	 */
	static Set<String> metricNames(String expression) {
		String s = expression.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
			.replaceAll("\\$\\{?\\w+}?", " ")
			.replaceAll("\\{[^}]*}", " ")
			.replaceAll("\\[[^]]*]", " ")
			.replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
		Set<String> names = new TreeSet<>();
		Matcher m = Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
		while (m.find()) {
			if (m.group(2) == null && !KEYWORDS.contains(m.group(1).toLowerCase(Locale.ROOT))) {
				names.add(m.group(1));
			}
		}
		return names;
	}

	/** Names in the scrape: every series name, and every family name of a # TYPE line. */
	private static Set<String> exported() {
		Set<String> names = new TreeSet<>();
		scrape.lines().forEach((line) -> {
			Matcher type = TYPE.matcher(line);
			if (type.matches()) {
				names.add(type.group(1));
			}
			else if (!line.startsWith("#")) {
				Matcher sample = SAMPLE.matcher(line);
				if (sample.matches()) {
					names.add(sample.group(1));
				}
			}
		});
		assertThat(names).contains("pglockwatch_target_up", "pglockwatch_alert_outbox_oldest_age_seconds");
		return names;
	}

	private static JsonNode dashboard() throws IOException {
		return JsonMapper.builder().build().readTree(Files.readString(HelmChart.DASHBOARD, StandardCharsets.UTF_8));
	}

	/** The dashboard's template variables by name. */
	private static Map<String, JsonNode> variables(JsonNode dashboard) {
		Map<String, JsonNode> variables = new LinkedHashMap<>();
		dashboard.path("templating").path("list").forEach((v) -> variables.put(v.path("name").asString(), v));
		return variables;
	}

	/** Names of the variables a piece of dashboard JSON refers to, without Grafana's built-ins ($__...). */
	static Set<String> variablesUsedIn(String json) {
		Set<String> names = new TreeSet<>();
		Matcher m = Pattern.compile("\\$\\{(\\w+)(?::[^}]*)?}|\\[\\[(\\w+)(?::[^]]*)?]]|\\$(\\w+)").matcher(json);
		while (m.find()) {
			String name = (m.group(1) != null) ? m.group(1) : (m.group(2) != null) ? m.group(2) : m.group(3);
			if (!name.startsWith("__")) {
				names.add(name);
			}
		}
		return names;
	}

	/** Label names of a metric's series in the scrape. */
	private static Set<String> labelsOf(String metric) {
		Set<String> labels = new TreeSet<>();
		Matcher label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"").matcher("");
		scrape.lines().filter((line) -> line.startsWith(metric + "{")).forEach((line) -> {
			label.reset(line.substring(metric.length(), line.indexOf('}') + 1));
			while (label.find()) {
				labels.add(label.group(1));
			}
		});
		return labels;
	}

	private static void collectPanels(JsonNode panels, List<JsonNode> out) {
		for (JsonNode panel : panels) {
			out.add(panel);
			collectPanels(panel.path("panels"), out);
		}
	}

	/** Every query expression of every panel (rows' nested panels too). */
	private static List<String> expressions(JsonNode dashboard) {
		List<String> expressions = new ArrayList<>();
		collect(dashboard.path("panels"), expressions);
		return expressions;
	}

	private static void collect(JsonNode panels, List<String> out) {
		for (JsonNode panel : panels) {
			for (JsonNode target : panel.path("targets")) {
				if (target.hasNonNull("expr")) {
					out.add(target.path("expr").asString());
				}
			}
			collect(panel.path("panels"), out);
		}
	}

	private static int refusedPort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private static String management(String path) {
		return "http://127.0.0.1:" + app.getEnvironment().getProperty("local.management.port") + path;
	}

	private static String api(String path) {
		return "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port") + path;
	}

	private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
		return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

}
