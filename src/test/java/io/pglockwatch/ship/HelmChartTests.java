package io.pglockwatch.ship;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.pglockwatch.ship.HelmChart.Manifests;
import io.pglockwatch.testsupport.PropertyPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static io.pglockwatch.ship.HelmChart.at;
import static io.pglockwatch.ship.HelmChart.list;
import static io.pglockwatch.ship.HelmChart.map;
import static io.pglockwatch.ship.HelmChart.maps;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Helm chart, linted and rendered by real Helm with its defaults and with every {@code ci/*-values.yaml}.
 * Invariants that hold for every variant are checked on each; what a variant is for is checked on it alone.
 */
class HelmChartTests {

	private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_.-]+)}");

	private static final Pattern SECRET_KEY = Pattern.compile("(?i).*(password|routing-?key|hash|secret|token).*");

	static Stream<Path> ciValues() throws IOException {
		return HelmChart.ciValuesFiles().stream();
	}

	// lint

	@Test
	void lintsCleanWithItsDefaults() {
		LintResult result = new Helm(HelmChart.DIR).lint().strict().call();
		assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
		assertThat(result.getMessages()).noneMatch((m) -> m.contains("[ERROR]") || m.contains("[WARNING]"));
	}

	/**
	 * helm-java's lint takes no values file, so each variant is linted as a copy of the chart whose values.yaml is
	 * the chart's merged with the variant's, as Helm merges them (maps deeply, lists replaced).
	 */
	@ParameterizedTest
	@MethodSource("ciValues")
	void lintsCleanWithEveryCiValuesFile(Path values, @TempDir Path tmp) throws IOException {
		LintResult result = HelmChart.lint(values, tmp);
		assertThat(result.isFailed()).as(values + ": " + String.join("\n", result.getMessages())).isFalse();
	}

	// invariants of every variant

	@ParameterizedTest
	@MethodSource("ciValues")
	void everyVariantRunsHardened(Path values) {
		Manifests m = HelmChart.render(values);
		Map<String, Object> pod = m.podSpec();
		assertThat(at(pod, "securityContext", "runAsNonRoot")).isEqualTo(true);
		assertThat(at(pod, "securityContext", "runAsUser")).isEqualTo(10001);
		assertThat(at(pod, "securityContext", "fsGroup")).isEqualTo(10001);
		assertThat(at(pod, "securityContext", "seccompProfile", "type")).isEqualTo("RuntimeDefault");
		Map<String, Object> container = m.container();
		Map<String, Object> sc = map(container, "securityContext");
		assertThat(sc.get("allowPrivilegeEscalation")).isEqualTo(false);
		assertThat(sc.get("readOnlyRootFilesystem")).isEqualTo(true);
		assertThat(sc.get("runAsNonRoot")).isEqualTo(true);
		assertThat(sc.get("privileged")).isNotEqualTo(true);
		assertThat(list(sc, "capabilities", "drop")).containsExactly("ALL");
		assertThat(list(sc, "capabilities", "add")).isEmpty();
		// Kubernetes' service links would put foreign PGLOCKWATCH_* variables into pglockwatch.*
		assertThat(pod.get("enableServiceLinks")).isEqualTo(false);
		assertThat(pod.get("automountServiceAccountToken")).isEqualTo(false);
		assertThat(String.valueOf(container.get("image"))).matches("[^:@]+(:[^:@]+|@sha256:[0-9a-f]{64})");
	}

	@ParameterizedTest
	@MethodSource("ciValues")
	void everyVariantProbesHealthGroupsOnADeclaredPort(Path values) {
		Manifests m = HelmChart.render(values);
		Map<String, Object> container = m.container();
		Set<Object> ports = new TreeSet<>();
		maps(container, "ports").forEach((p) -> ports.add(p.get("name")));
		assertThat(at(container, "livenessProbe", "httpGet", "path")).isEqualTo("/actuator/health/liveness");
		assertThat(at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/actuator/health/readiness");
		assertThat(at(container, "startupProbe", "httpGet", "path")).isEqualTo("/actuator/health/liveness");
		for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
			assertThat(ports).as(probe + " port").contains(at(container, probe, "httpGet", "port"));
		}
		assertThat(map(container, "resources", "requests")).containsKeys("cpu", "memory");
		assertThat(map(container, "resources", "limits")).containsKey("memory");
	}

	@ParameterizedTest
	@MethodSource("ciValues")
	void everyVariantWritesOnlyToVolumes(Path values) {
		Manifests m = HelmChart.render(values);
		Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
		maps(m.podSpec(), "volumes").forEach((v) -> volumes.put(String.valueOf(v.get("name")), v));
		Map<String, String> mounts = new LinkedHashMap<>();
		maps(m.container(), "volumeMounts").forEach((v) -> mounts.put(String.valueOf(v.get("mountPath")), String.valueOf(v.get("name"))));
		// the root filesystem is read-only: /tmp (Tomcat, JVM) is an emptyDir
		assertThat(mounts).containsKey("/tmp");
		assertThat(volumes.get(mounts.get("/tmp"))).containsKey("emptyDir");
		// the mounted configuration is the ConfigMap the application.yaml comes from
		assertThat(m.env().get("SPRING_CONFIG_ADDITIONAL_LOCATION")).containsEntry("value", "file:/etc/pg-lockwatch/application.yaml");
		assertThat(at(volumes.get(mounts.get("/etc/pg-lockwatch")), "configMap", "name")).isEqualTo(HelmChart.FULLNAME);

		String datasource = String.valueOf(at(m.applicationYaml(), "spring", "datasource", "url"));
		// behind the Ingress, X-Forwarded-Proto counts: HTTPS there makes the session cookie Secure
		assertThat(at(m.applicationYaml(), "server", "forward-headers-strategy")).isEqualTo("native");
		boolean pvc = volumes.values().stream().anyMatch((v) -> v.containsKey("persistentVolumeClaim"));
		if (datasource.startsWith("jdbc:h2:file:/app/data/")) {
			assertThat(mounts).as("H2 file directory").containsKey("/app/data");
		}
		else {
			assertThat(datasource).startsWith("jdbc:postgresql://");
			assertThat(pvc).as("no volume for a PostgreSQL store").isFalse();
		}
		// H2 locks its file and the claim is ReadWriteOnce: the old pod must be gone first
		assertThat(at(m.deployment(), "spec", "strategy", "type")).isEqualTo(pvc ? "Recreate" : "RollingUpdate");
	}

	@ParameterizedTest
	@MethodSource("ciValues")
	void everyVariantRollsOnConfigChanges(Path values) {
		Manifests m = HelmChart.render(values);
		Map<String, Object> annotations = map(m.deployment(), "spec", "template", "metadata", "annotations");
		assertThat(String.valueOf(annotations.get("checksum/config"))).matches("[0-9a-f]{64}");
		if (m.has("Secret")) {
			assertThat(String.valueOf(annotations.get("checksum/secret"))).matches("[0-9a-f]{64}");
		}
	}

	@ParameterizedTest
	@MethodSource("ciValues")
	void noSecretInTheConfigMap(Path values) throws IOException {
		Manifests m = HelmChart.render(values);
		// every key that smells of a secret is a ${...} placeholder, never a value
		List<String> leaks = new ArrayList<>();
		walk("", m.applicationYaml(), (path, value) -> {
			String key = path.substring(path.lastIndexOf('.') + 1);
			if (SECRET_KEY.matcher(key).matches() && !PLACEHOLDER.matcher(String.valueOf(value)).matches()) {
				leaks.add(path + "=" + value);
			}
		});
		assertThat(leaks).isEmpty();
		// and no secret value of the values file appears in any ConfigMap
		List<String> secrets = new ArrayList<>();
		walk("", HelmChart.loadYaml(values), (path, value) -> {
			if (path.matches("(?i).*(password|routingKey|passwordHash)") && value != null && !String.valueOf(value).isEmpty()) {
				secrets.add(String.valueOf(value));
			}
		});
		for (Map<String, Object> configMap : m.ofKind("ConfigMap")) {
			String data = String.valueOf(configMap.get("data"));
			secrets.forEach((secret) -> assertThat(data).as(at(configMap, "metadata", "name") + " holds a secret").doesNotContain(secret));
		}
	}

	@ParameterizedTest
	@MethodSource("ciValues")
	void everySecretReachesItsPlaceholderThroughTheEnvironment(Path values) {
		Manifests m = HelmChart.render(values);
		Map<String, Map<String, Object>> env = m.env();
		Matcher placeholders = PLACEHOLDER.matcher(m.applicationYamlText());
		while (placeholders.find()) {
			String variable = placeholders.group(1);
			assertThat(env).as("environment variable of ${" + variable + "}").containsKey(variable);
			assertThat(at(env.get(variable), "valueFrom", "secretKeyRef", "key")).as(variable + " comes from a Secret").isNotNull();
		}
		// Spring binds a list from one source only: one such variable would replace the file's whole list
		assertThat(env.keySet()).noneMatch((name) -> name.startsWith("PGLOCKWATCH_TARGETS_") || name.startsWith("PGLOCKWATCH_SECURITY_USERS_"));
		// every key taken from the chart's own Secret is in it
		if (m.has("Secret")) {
			Set<String> keys = map(m.get("Secret", HelmChart.FULLNAME), "data").keySet();
			env.values().stream()
				.filter((e) -> HelmChart.FULLNAME.equals(at(e, "valueFrom", "secretKeyRef", "name")))
				.forEach((e) -> assertThat(keys).as(e.get("name") + "'s key").contains((String) at(e, "valueFrom", "secretKeyRef", "key")));
		}
	}

	@ParameterizedTest
	@MethodSource("ciValues")
	void pdbOnlyWithMoreThanOneReplica(Path values) {
		Manifests m = HelmChart.render(values);
		int replicas = (Integer) at(m.deployment(), "spec", "replicas");
		assertThat(m.has("PodDisruptionBudget")).isEqualTo(replicas > 1);
	}

	/** The holder of a replica's leases must be unique among the replicas of a store: the pod's own name is. */
	@ParameterizedTest
	@MethodSource("ciValues")
	void everyReplicaIsNamedAfterItsPod(Path values) {
		Manifests m = HelmChart.render(values);
		assertThat(m.env().get("PGLOCKWATCH_CLUSTER_INSTANCE_NAME"))
			.isEqualTo(Map.of("name", "PGLOCKWATCH_CLUSTER_INSTANCE_NAME", "valueFrom", Map.of("fieldRef", Map.of("fieldPath", "metadata.name"))));
		assertThat(map(m.applicationYaml(), "pglockwatch", "cluster")).doesNotContainKey("instance-name");
	}

	// variants

	@Test
	void chartDefaultsRenderTheMinimumWithoutOptionalResources() {
		Manifests m = HelmChart.render(null);
		assertThat(m.kinds()).containsExactlyInAnyOrder("ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "Service", "Deployment");
		assertThat(m.ofKind("ConfigMap")).hasSize(1);
		assertThat(at(m.deployment(), "spec", "replicas")).isEqualTo(1);
		// one replica: nothing to spread, and a budget would block every node drain
		assertThat(m.podSpec()).doesNotContainKey("topologySpreadConstraints");
		assertThat(m.has("PodDisruptionBudget")).isFalse();
		assertThat(map(m.applicationYaml(), "pglockwatch", "cluster")).isEqualTo(Map.of("lease", "10s", "shards", 1));
	}

	@Test
	void defaultVariantKeepsTheH2StoreOnAClaimAndLeavesMonitoringOff() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("default-values.yaml"));
		assertThat(m.kinds()).containsExactlyInAnyOrder("ServiceAccount", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service", "Deployment");
		assertThat(m.kinds()).doesNotContain("ServiceMonitor", "PrometheusRule", "PodDisruptionBudget", "NetworkPolicy", "Ingress");
		assertThat(m.ofKind("ConfigMap")).as("no dashboard ConfigMap by default").hasSize(1);
		assertThat(at(m.applicationYaml(), "spring", "datasource", "url")).isEqualTo("jdbc:h2:file:/app/data/pglockwatch");
		assertThat(at(m.deployment(), "spec", "strategy", "type")).isEqualTo("Recreate");
		Map<String, Object> claim = m.get("PersistentVolumeClaim", HelmChart.FULLNAME + "-data");
		assertThat(maps(m.podSpec(), "volumes")).anySatisfy((v) -> assertThat(at(v, "persistentVolumeClaim", "claimName"))
			.isEqualTo(at(claim, "metadata", "name")));
		// actuator on its own port: the probes use it
		assertThat(at(m.container(), "livenessProbe", "httpGet", "port")).isEqualTo("management");
		assertThat(at(m.applicationYaml(), "management", "server", "port")).isEqualTo(9090);
		Map<String, Object> target = map(list(m.applicationYaml(), "pglockwatch", "targets").get(0));
		assertThat(target).containsEntry("name", "orders").containsEntry("password", "${PGLW_TARGET_0_PASSWORD}");
		assertThat(at(m.env().get("PGLW_TARGET_0_PASSWORD"), "valueFrom", "secretKeyRef", "key")).isEqualTo("target-orders-password");
	}

	@Test
	void productionVariantUsesAnExternalPostgresStoreAndRollsWithoutAGap() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("production-postgres-store-values.yaml"));
		assertThat(m.kinds()).doesNotContain("PersistentVolumeClaim").contains("Secret", "Ingress");
		Map<String, Object> config = m.applicationYaml();
		assertThat(at(config, "spring", "datasource", "url")).isEqualTo("jdbc:postgresql://ops-db.internal:5432/pglockwatch");
		assertThat(at(config, "spring", "datasource", "username")).isEqualTo("pglockwatch");
		assertThat(at(config, "spring", "datasource", "password")).isNull();
		assertThat(at(m.env().get("SPRING_DATASOURCE_PASSWORD"), "valueFrom", "secretKeyRef", "key")).isEqualTo("store-password");
		assertThat(at(m.env().get("PGLOCKWATCH_ALERTS_PAGERDUTY_ROUTING_KEY"), "valueFrom", "secretKeyRef", "key"))
			.isEqualTo("pagerduty-routing-key");
		assertThat(at(m.deployment(), "spec", "strategy")).isEqualTo(Map.of("type", "RollingUpdate",
				"rollingUpdate", Map.of("maxSurge", 1, "maxUnavailable", 0)));
		assertThat(maps(m.container(), "volumeMounts")).noneMatch((v) -> "/app/data".equals(v.get("mountPath")));
		// per-target detection overrides pass through to the strictly bound configuration
		assertThat(at(list(config, "pglockwatch", "targets").get(1), "detection", "ddl-queue", "min-queued")).isEqualTo(10);
		// user names with '@' get a valid Secret key
		assertThat(map(m.get("Secret", HelmChart.FULLNAME), "data")).containsKey("user-alice_example.com-password-hash");
		assertThat(at(config, "logging", "structured", "format", "console")).isEqualTo("ecs");
		assertThat(at(m.get("Ingress", HelmChart.FULLNAME), "spec", "rules", 0, "http", "paths", 0, "backend", "service", "port", "name"))
			.as("the Ingress never exposes the management port").isEqualTo("http");
	}

	@Test
	void h2WithPvcVariantClaimsTheRequestedStorageAndRecreates() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("h2-with-pvc-values.yaml"));
		Map<String, Object> claim = m.get("PersistentVolumeClaim", HelmChart.FULLNAME + "-data");
		assertThat(at(claim, "spec", "storageClassName")).isEqualTo("fast-ssd");
		assertThat(at(claim, "spec", "resources", "requests", "storage")).isEqualTo("5Gi");
		assertThat(at(claim, "metadata", "annotations", "helm.sh/resource-policy")).isEqualTo("keep");
		assertThat(at(m.deployment(), "spec", "strategy", "type")).isEqualTo("Recreate");
		assertThat(m.has("Secret")).isTrue();
	}

	@Test
	void h2EphemeralVariantUsesAnEmptyDirAndTheApiPortForActuator() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("h2-ephemeral-values.yaml"));
		assertThat(m.kinds()).doesNotContain("PersistentVolumeClaim");
		assertThat(maps(m.podSpec(), "volumes")).anySatisfy((v) -> {
			assertThat(v.get("name")).isEqualTo("data");
			assertThat(v).containsKey("emptyDir");
		});
		assertThat(at(m.deployment(), "spec", "strategy", "type")).isEqualTo("RollingUpdate");
		assertThat(at(m.container(), "readinessProbe", "httpGet", "port")).isEqualTo("http");
		assertThat(m.applicationYaml()).doesNotContainKey("management");
	}

	@Test
	void monitoringVariantRendersServiceMonitorRuleAndDashboard() throws IOException {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("monitoring-on-values.yaml"));
		assertThat(m.kinds()).contains("ServiceMonitor", "PrometheusRule");

		Map<String, Object> monitor = m.get("ServiceMonitor", HelmChart.FULLNAME);
		assertThat(at(monitor, "metadata", "labels", "release")).isEqualTo("kube-prometheus-stack");
		assertThat(at(monitor, "spec", "endpoints", 0, "port")).isEqualTo("management");
		assertThat(at(monitor, "spec", "endpoints", 0, "path")).isEqualTo("/actuator/prometheus");
		// the job label Prometheus will use is the one the "pg-lockwatch is down" rules select
		String jobLabel = (String) at(monitor, "spec", "jobLabel");
		assertThat(at(m.get("Service", HelmChart.FULLNAME), "metadata", "labels", jobLabel)).isEqualTo("pglockwatch-prod");
		assertThat(map(monitor, "spec", "selector", "matchLabels"))
			.isEqualTo(map(m.get("Service", HelmChart.FULLNAME), "spec", "selector"));

		Map<String, Map<String, Object>> rules = MonitoringAssetsTests.rules(m);
		assertThat(rules).containsKeys("PgLockwatchDdlLockQueue", "PgLockwatchTargetDown", "PgLockwatchPollsFailing",
				"PgLockwatchAlertDeliveryFailing", "PgLockwatchAlertRejected", "PgLockwatchStoreWritesFailing", "PgLockwatchStoreVolumeFilling",
				"PgLockwatchDown", "PgLockwatchAbsent");
		assertThat(rules.get("PgLockwatchDdlLockQueue")).containsEntry("for", "30s");
		assertThat((String) rules.get("PgLockwatchDdlLockQueue").get("expr")).contains("pglockwatch_ddl_queue_depth").endsWith(">= 5");
		assertThat(rules.get("PgLockwatchTargetDown")).containsEntry("for", "2m");
		assertThat((String) rules.get("PgLockwatchAlertDeliveryFailing").get("expr"))
			.contains("pglockwatch_alert_outbox_oldest_age_seconds").endsWith("> 120");
		// a rejected event is lost: it fires on the first one, and says where to look
		assertThat((String) rules.get("PgLockwatchAlertRejected").get("expr"))
			.isEqualTo("sum by (namespace, job, channel) (increase(pglockwatch_alert_events_total{outcome=\"rejected\"}[15m])) > 0");
		assertThat((String) map(rules.get("PgLockwatchAlertRejected"), "annotations").get("description"))
			.contains("routing key", "32-character", "/actuator/health", "state=failed", "docs/runbook.md");
		assertThat(rules.get("PgLockwatchStoreWritesFailing")).containsEntry("for", "5m")
			.containsEntry("expr", "max by (namespace, job) (pglockwatch_store_writes_failing) == 1");
		assertThat((String) map(rules.get("PgLockwatchStoreWritesFailing"), "annotations").get("description"))
			.contains("/actuator/health", "Do not restart", "docs/runbook.md");
		// free over total of the store's volume, not over the store's own size: other files fill it too
		assertThat(rules.get("PgLockwatchStoreVolumeFilling")).containsEntry("for", "15m")
			.containsEntry("expr", "pglockwatch_store_volume_free_bytes / pglockwatch_store_volume_total_bytes < 0.1");
		assertThat((String) map(rules.get("PgLockwatchStoreVolumeFilling"), "annotations").get("description"))
			.contains("max-count", "max-age", "store.h2.persistence.size", "store.type=postgresql", "docs/runbook.md");
		assertThat(rules.get("PgLockwatchDown").get("expr")).isEqualTo(
				"sum by (namespace, job) (up{job=\"pglockwatch-prod\", namespace=\"" + HelmChart.NAMESPACE + "\"}) == 0");
		assertThat(rules.get("PgLockwatchAbsent").get("expr")).isEqualTo(
				"absent(up{job=\"pglockwatch-prod\", namespace=\"" + HelmChart.NAMESPACE + "\"})");
		assertThat(rules.values()).allSatisfy((rule) -> assertThat(map(rule, "labels")).containsEntry("team", "dba").containsKey("severity"));

		Map<String, Object> dashboard = m.get("ConfigMap", HelmChart.FULLNAME + "-dashboard");
		assertThat(at(dashboard, "metadata", "labels", "grafana_dashboard")).isEqualTo("1");
		assertThat(at(dashboard, "metadata", "annotations", "grafana_folder")).isEqualTo("Databases");
		assertThat(String.valueOf(at(dashboard, "data", "pg-lockwatch.json")).strip())
			.isEqualTo(Files.readString(HelmChart.DASHBOARD, StandardCharsets.UTF_8).strip());
	}

	@Test
	void existingSecretVariantCreatesNoSecretAndReadsTheNamedKeys() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("existing-secret-values.yaml"));
		assertThat(m.kinds()).doesNotContain("Secret");
		assertThat(map(m.deployment(), "spec", "template", "metadata", "annotations")).doesNotContainKey("checksum/secret");
		Map<String, Map<String, Object>> env = m.env();
		assertThat(secretRef(env, "PGLW_TARGET_0_PASSWORD")).isEqualTo("pglockwatch-secrets/target-orders-password");
		assertThat(secretRef(env, "PGLW_TARGET_1_PASSWORD")).isEqualTo("billing-db-pglockwatch/password");
		assertThat(secretRef(env, "PGLW_USER_0_PASSWORD_HASH")).isEqualTo("pglockwatch-secrets/user-alice_example.com-password-hash");
		assertThat(secretRef(env, "PGLOCKWATCH_ALERTS_PAGERDUTY_ROUTING_KEY")).isEqualTo("pglockwatch-secrets/pagerduty-routing-key");
		assertThat(secretRef(env, "SPRING_DATASOURCE_PASSWORD")).isEqualTo("pglockwatch-secrets/store-password");
	}

	@Test
	void twoReplicaVariantHasABudgetAndSpreadsPods() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("two-replicas-values.yaml"));
		assertThat(at(m.deployment(), "spec", "replicas")).isEqualTo(2);
		Map<String, Object> selector = map(m.deployment(), "spec", "selector", "matchLabels");
		Map<String, Object> pdb = m.get("PodDisruptionBudget", HelmChart.FULLNAME);
		assertThat(at(pdb, "spec", "minAvailable")).isEqualTo(1);
		assertThat(map(pdb, "spec", "selector", "matchLabels")).isEqualTo(selector);
		// no constraint given: the chart's soft spread over nodes
		assertThat(maps(m.podSpec(), "topologySpreadConstraints")).containsExactly(Map.of("maxSkew", 1,
				"topologyKey", "kubernetes.io/hostname", "whenUnsatisfiable", "ScheduleAnyway",
				"labelSelector", Map.of("matchLabels", selector)));
		assertThat(at(m.env().get("PGLOCKWATCH_CLUSTER_INSTANCE_NAME"), "valueFrom", "fieldRef", "fieldPath")).isEqualTo("metadata.name");
		assertThat(map(m.applicationYaml(), "pglockwatch", "cluster")).isEqualTo(Map.of("lease", "10s", "shards", 1));
		assertThat(at(m.applicationYaml(), "spring", "datasource", "url")).asString().startsWith("jdbc:postgresql://");
		assertThat(secretRef(m.env(), "SPRING_DATASOURCE_PASSWORD")).isEqualTo("ops-db-app/password");
		assertThat(m.kinds()).doesNotContain("PersistentVolumeClaim");
		// the new pod is ready before the old one stops
		assertThat(at(m.deployment(), "spec", "strategy", "type")).isEqualTo("RollingUpdate");
	}

	@Test
	void givenSpreadConstraintsReplaceTheChartsAndClusterSettingsReachTheService() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("two-replicas-values.yaml"),
				Map.of("topologySpreadConstraints[0].maxSkew", 1, "topologySpreadConstraints[0].topologyKey", "topology.kubernetes.io/zone",
						"topologySpreadConstraints[0].whenUnsatisfiable", "DoNotSchedule", "config.cluster.lease", "15s",
						"config.cluster.shards", 4));
		List<Map<String, Object>> constraints = maps(m.podSpec(), "topologySpreadConstraints");
		assertThat(constraints).hasSize(1);
		assertThat(constraints.get(0)).containsEntry("topologyKey", "topology.kubernetes.io/zone")
			.containsEntry("whenUnsatisfiable", "DoNotSchedule")
			.containsEntry("labelSelector", Map.of("matchLabels", map(m.deployment(), "spec", "selector", "matchLabels")));
		assertThat(map(m.applicationYaml(), "pglockwatch", "cluster")).isEqualTo(Map.of("lease", "15s", "shards", 4));
	}

	@Test
	void networkPolicyVariantAllowsDnsPostgresAndHttpsOut() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("network-policy-values.yaml"));
		Map<String, Object> policy = m.get("NetworkPolicy", HelmChart.FULLNAME);
		assertThat(list(policy, "spec", "policyTypes")).containsExactly("Ingress", "Egress");
		List<Object> egressPorts = new ArrayList<>();
		maps(policy, "spec", "egress").forEach((rule) -> maps(rule, "ports").forEach((p) -> egressPorts.add(p.get("port"))));
		assertThat(egressPorts).contains(53, 5432, 443);
		assertThat(at(policy, "spec", "ingress", 1, "from", 0, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"))
			.isEqualTo("monitoring");
	}

	// mistakes caught at install time (values.schema.json refuses more: ChartValuesTests and its bad values files)

	@Test
	void refusesTwoReplicasOnTheH2Store() {
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("default-values.yaml"), Map.of("replicaCount", 2)))
			.hasMessageContaining("at '/store/type': value must be 'postgresql'");
	}

	@Test
	void refusesAnAlertChannelWithoutDashboardUrl() {
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("default-values.yaml"),
				Map.of("pagerduty.routingKey", "abcdefghijklmnopqrstuvwxyz012345")))
			.hasMessageContaining("at '/config/alerts/dashboard-url'");
	}

	@Test
	void refusesSecretsUnderConfig() {
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("default-values.yaml"),
				Map.of("config.alerts.pagerduty.routing-key", "abc")))
			.hasMessageContaining("pagerduty.routingKey");
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("default-values.yaml"),
				Map.of("config.targets[0].name", "x")))
			.hasMessageContaining("not config.targets");
	}

	@Test
	void singleSignOnTakesItsClientSecretFromTheSecretOnly() {
		Manifests m = HelmChart.render(HelmChart.CI.resolve("default-values.yaml"),
				Map.of("config.security.oidc.issuer-uri", "https://login.example.com/realms/sre",
						"config.security.oidc.client-id", "pg-lockwatch", "oidc.clientSecret", "s3cr3t-client"));
		assertThat(secretRef(m.env(), "PGLOCKWATCH_SECURITY_OIDC_CLIENT_SECRET"))
			.isEqualTo(HelmChart.FULLNAME + "/oidc-client-secret");
		assertThat(m.applicationYamlText()).contains("https://login.example.com/realms/sre").doesNotContain("s3cr3t-client");
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("default-values.yaml"),
				Map.of("config.security.oidc.issuer-uri", "https://login.example.com")))
			.hasMessageContaining("/oidc/clientSecret");
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("default-values.yaml"),
				Map.of("config.security.oidc.client-secret", "s3cr3t-client")))
			.hasMessageContaining("not under config");
	}

	@Test
	void refusesAPasswordInValuesNextToExistingSecret() {
		assertThatThrownBy(() -> HelmChart.render(HelmChart.CI.resolve("existing-secret-values.yaml"),
				Map.of("targets[0].password", "pw")))
			.hasMessageContaining("key target-orders-password");
	}

	// values.yaml

	@Test
	void everyValuesKeyIsCommented() throws IOException {
		List<String> lines = Files.readAllLines(HelmChart.DIR.resolve("values.yaml"), StandardCharsets.UTF_8);
		Pattern key = Pattern.compile("^\\s*(- )?[A-Za-z0-9_.\"/-]+:( |$)");
		List<String> uncommented = new ArrayList<>();
		for (int i = 0; i < lines.size(); i++) {
			String line = lines.get(i);
			if (line.stripLeading().startsWith("#") || !key.matcher(line).find()) {
				continue;
			}
			boolean above = i > 0 && lines.get(i - 1).strip().startsWith("#");
			if (!above && !line.contains(" # ")) {
				uncommented.add((i + 1) + ": " + line);
			}
		}
		assertThat(uncommented).isEmpty();
	}

	/**
	 * values.yaml's {@code config} block lists every pg-lockwatch setting with the service's own default, so
	 * it documents them and never pins a stale one. Lists (targets, users), the routing key and the single sign-on
	 * client secret are elsewhere.
	 */
	@Test
	void valuesConfigIsEverySettingWithTheServicesDefault() throws IOException {
		Map<String, String> expected = new TreeMap<>();
		PropertyPaths.all().forEach((path, value) -> expected.put(path.substring("pglockwatch.".length()), value));
		expected.keySet()
			.removeIf((p) -> p.contains("[N]") || p.equals("alerts.pagerduty.routing-key")
					|| p.equals("security.oidc.client-secret"));
		Map<String, String> actual = new TreeMap<>();
		walk("", HelmChart.map(HelmChart.loadYaml(HelmChart.DIR.resolve("values.yaml")), "config"),
				(path, value) -> actual.put(path, String.valueOf(value)));
		expected.values().removeIf((v) -> v == null);
		assertThat(actual).isEqualTo(expected);
	}

	// helpers

	private static String secretRef(Map<String, Map<String, Object>> env, String name) {
		assertThat(env).containsKey(name);
		Map<String, Object> ref = map(env.get(name), "valueFrom", "secretKeyRef");
		return ref.get("name") + "/" + ref.get("key");
	}

	interface LeafVisitor {

		void visit(String path, Object value);

	}

	/** Visits every scalar of a YAML tree with its dotted path (list items as [i]). */
	static void walk(String path, Object node, LeafVisitor visitor) {
		if (node instanceof Map<?, ?> m) {
			m.forEach((k, v) -> walk(path.isEmpty() ? String.valueOf(k) : path + "." + k, v, visitor));
		}
		else if (node instanceof List<?> l) {
			for (int i = 0; i < l.size(); i++) {
				walk(path + "[" + i + "]", l.get(i), visitor);
			}
		}
		else {
			visitor.visit(path, node);
		}
	}

}
