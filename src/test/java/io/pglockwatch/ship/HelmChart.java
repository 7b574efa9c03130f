package io.pglockwatch.ship;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The chart in {@code helm/pg-lockwatch}, rendered by real Helm (embedded by helm-java) and parsed into manifests.
 * Paths are relative to the project root, where Maven runs the tests.
 */
final class HelmChart {

	static final Path DIR = Path.of("helm", "pg-lockwatch");

	static final Path CI = DIR.resolve("ci");

	static final Path VALUES = DIR.resolve("values.yaml");

	static final Path SCHEMA = DIR.resolve("values.schema.json");

	static final Path README = DIR.resolve("README.md");

	static final Path DASHBOARD = DIR.resolve("dashboards").resolve("pg-lockwatch.json");

	static final String RELEASE = "lw";

	static final String NAMESPACE = "databases";

	/** The generated full name of every resource: release name + chart name. */
	static final String FULLNAME = RELEASE + "-pg-lockwatch";

	/**
	 * helm-java's template command assumes Kubernetes v1.20.0 unless told, which is below the chart's kubeVersion
	 * (the helm CLI assumes its client-go version instead); render for a current cluster.
	 */
	static final String KUBE_VERSION = "v1.31.0";

	private HelmChart() {
	}

	/** The chart rendered with its defaults, a values file (may be null) and {@code --set} values. */
	static Manifests render(Path valuesFile, Map<String, Object> set) {
		TemplateCommand template = new Helm(DIR).template()
			.withName(RELEASE)
			.withNamespace(NAMESPACE)
			.withKubeVersion(KUBE_VERSION);
		if (valuesFile != null) {
			template = template.withValuesFile(valuesFile);
		}
		for (Map.Entry<String, Object> entry : set.entrySet()) {
			template = template.set(entry.getKey(), entry.getValue());
		}
		return new Manifests(template.call());
	}

	static Manifests render(Path valuesFile) {
		return render(valuesFile, Map.of());
	}

	/** Every {@code ci/*-values.yaml}, in name order. */
	static List<Path> ciValuesFiles() throws IOException {
		try (Stream<Path> files = Files.list(CI)) {
			return files.filter((p) -> p.getFileName().toString().endsWith("-values.yaml")).sorted().toList();
		}
	}

	/**
	 * Lints the chart with a values file. helm-java's lint takes no values file, so the chart is copied into
	 * {@code tmp} with a values.yaml that is the chart's merged with the given one, as Helm merges them (maps deeply,
	 * lists replaced).
	 */
	static LintResult lint(Path valuesFile, Path tmp) throws IOException {
		Path chart = tmp.resolve("pg-lockwatch");
		copyTree(DIR, chart);
		Object merged = merge(loadYaml(VALUES), loadYaml(valuesFile));
		DumperOptions options = new DumperOptions();
		options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
		Files.writeString(chart.resolve("values.yaml"), new Yaml(options).dump(merged), StandardCharsets.UTF_8);
		return new Helm(chart).lint().strict().call();
	}

	@SuppressWarnings("unchecked")
	private static Object merge(Object base, Object override) {
		if (base instanceof Map<?, ?> b && override instanceof Map<?, ?> o) {
			Map<String, Object> result = new LinkedHashMap<>((Map<String, Object>) b);
			o.forEach((k, v) -> result.put((String) k, result.containsKey(k) ? merge(result.get(k), v) : v));
			return result;
		}
		return override;
	}

	private static void copyTree(Path from, Path to) throws IOException {
		try (Stream<Path> paths = Files.walk(from)) {
			for (Path source : paths.toList()) {
				Path target = to.resolve(from.relativize(source).toString());
				if (Files.isDirectory(source)) {
					Files.createDirectories(target);
				}
				else {
					Files.copy(source, target);
				}
			}
		}
	}

	static Object loadYaml(String text) {
		return yaml().load(text);
	}

	static Object loadYaml(Path path) throws IOException {
		return loadYaml(Files.readString(path, StandardCharsets.UTF_8));
	}

	private static Yaml yaml() {
		// SafeConstructor: plain maps, lists and scalars only
		return new Yaml(new SafeConstructor(new LoaderOptions()));
	}

	/** The value at a path of map keys (and list indexes, as numbers), or null when any step is missing. */
	static Object at(Object node, Object... path) {
		Object current = node;
		for (Object step : path) {
			if (current instanceof Map<?, ?> map) {
				current = map.get(step);
			}
			else if (current instanceof List<?> list && step instanceof Integer index) {
				current = (index < list.size()) ? list.get(index) : null;
			}
			else {
				return null;
			}
		}
		return current;
	}

	@SuppressWarnings("unchecked")
	static Map<String, Object> map(Object node, Object... path) {
		Object value = at(node, path);
		return (value instanceof Map) ? (Map<String, Object>) value : Map.of();
	}

	@SuppressWarnings("unchecked")
	static List<Object> list(Object node, Object... path) {
		Object value = at(node, path);
		return (value instanceof List) ? (List<Object>) value : List.of();
	}

	static List<Map<String, Object>> maps(Object node, Object... path) {
		List<Map<String, Object>> result = new ArrayList<>();
		for (Object item : list(node, path)) {
			result.add(map(item));
		}
		return result;
	}

	/** The manifests of one {@code helm template} run. */
	static final class Manifests {

		private final String text;

		private final List<Map<String, Object>> documents = new ArrayList<>();

		Manifests(String text) {
			this.text = text;
			for (Object document : yaml().loadAll(text)) {
				// helm writes "---" plus a "# Source:" comment before each template; empty templates give nulls
				if (document != null) {
					this.documents.add(map(document));
				}
			}
		}

		String text() {
			return this.text;
		}

		List<Map<String, Object>> documents() {
			return this.documents;
		}

		Set<String> kinds() {
			Set<String> kinds = new LinkedHashSet<>();
			this.documents.forEach((d) -> kinds.add(String.valueOf(d.get("kind"))));
			return kinds;
		}

		List<Map<String, Object>> ofKind(String kind) {
			return this.documents.stream().filter((d) -> kind.equals(d.get("kind"))).toList();
		}

		/** The one resource of a kind and name; fails when there is none. */
		Map<String, Object> get(String kind, String name) {
			return this.documents.stream()
				.filter((d) -> kind.equals(d.get("kind")) && name.equals(at(d, "metadata", "name")))
				.findFirst()
				.orElseThrow(() -> new AssertionError("no " + kind + " " + name + " among " + kinds()));
		}

		Map<String, Object> deployment() {
			return get("Deployment", FULLNAME);
		}

		Map<String, Object> podSpec() {
			return map(deployment(), "spec", "template", "spec");
		}

		Map<String, Object> container() {
			List<Map<String, Object>> containers = maps(podSpec(), "containers");
			if (containers.size() != 1) {
				throw new AssertionError("expected one container, got " + containers.size());
			}
			return containers.get(0);
		}

		/** Container environment: name to the env entry (value or valueFrom), in order. */
		Map<String, Map<String, Object>> env() {
			Map<String, Map<String, Object>> env = new LinkedHashMap<>();
			maps(container(), "env").forEach((e) -> env.put(String.valueOf(e.get("name")), e));
			return env;
		}

		/** The application.yaml the chart mounts, as text. */
		String applicationYamlText() {
			return String.valueOf(at(get("ConfigMap", FULLNAME), "data", "application.yaml"));
		}

		Map<String, Object> applicationYaml() {
			return map(loadYaml(applicationYamlText()));
		}

		boolean has(String kind) {
			return kinds().contains(kind);
		}

	}

}
