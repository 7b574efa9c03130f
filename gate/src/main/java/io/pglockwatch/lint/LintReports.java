package io.pglockwatch.lint;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The lint's findings as text (for people), JSON (an array of findings with stable field names) or SARIF 2.1.0 (for
 * code-scanning tools). JSON and SARIF are written with Jackson 3, which Flyway already brings to the classpath.
 */
public final class LintReports {

	/** Where each rule's documentation is by default: docs/lint.md, relative to the repository's root. */
	public static final String DEFAULT_DOCS = "docs/lint.md";

	static final String TOOL_NAME = "pg-lockwatch-lint";

	/** Loaded only for JSON and SARIF, so text needs nothing but this jar. */
	private static final class Json {

		static final JsonMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

	}

	private LintReports() {
	}

	/** One block per finding, then a summary line. */
	public static String text(List<Finding> findings) {
		StringBuilder out = new StringBuilder();
		for (Finding f : findings) {
			out.append(f.location()).append(": ").append(f.severity().label()).append(" [").append(f.ruleId())
				.append("] ").append(f.rule().title()).append('\n');
			out.append("  statement: ").append(f.statement()).append('\n');
			out.append("  lock:      ").append(f.lockMode().pgName()).append(" on ").append(f.relation())
				.append(" (blocks ").append(f.blocks()).append(")\n");
			out.append("  problem:   ").append(f.message()).append('\n');
			out.append("  safe way:  ").append(f.safeAlternative()).append('\n');
			out.append("  accept:    -- pglockwatch:allow ").append(f.ruleId())
				.append(" <reason>   (on the line before the statement)\n");
			out.append("  docs:      ").append(f.rule().docsPath()).append("\n\n");
		}
		long errors = findings.stream().filter(f -> f.severity() == Severity.ERROR).count();
		out.append(findings.isEmpty() ? "no findings"
				: findings.size() + (findings.size() == 1 ? " finding" : " findings") + " (" + errors + " errors, "
						+ (findings.size() - errors) + " warnings)")
			.append('\n');
		return out.toString();
	}

	/** A JSON array: one object per finding. */
	public static String json(List<Finding> findings) {
		List<Map<String, Object>> array = new ArrayList<>();
		for (Finding f : findings) {
			Map<String, Object> o = new LinkedHashMap<>();
			o.put("file", f.file());
			o.put("line", f.line());
			o.put("column", f.column());
			o.put("statement", f.statement());
			o.put("rule", f.ruleId());
			o.put("severity", f.severity().label());
			o.put("lockMode", f.lockMode().pgName());
			o.put("relation", f.relation());
			o.put("blocks", f.blocks());
			o.put("message", f.message());
			o.put("safeAlternative", f.safeAlternative());
			o.put("docs", f.rule().docsPath());
			array.add(o);
		}
		return Json.MAPPER.writeValueAsString(array) + "\n";
	}

	/** SARIF 2.1.0 with the documentation at docs/lint.md (relative to the repository). */
	public static String sarif(List<Finding> findings) {
		return sarif(findings, DEFAULT_DOCS);
	}

	/**
	 * SARIF 2.1.0: one run, every rule in {@code tool.driver.rules}, one result per finding.
	 * @param docs where docs/lint.md is, e.g. {@code https://github.com/org/repo/blob/main/docs/lint.md}; each
	 * rule's helpUri is this plus {@code #rule-id}
	 */
	public static String sarif(List<Finding> findings, String docs) {
		List<Map<String, Object>> rules = new ArrayList<>();
		for (Rule rule : Rule.values()) {
			Map<String, Object> r = new LinkedHashMap<>();
			r.put("id", rule.id());
			r.put("name", rule.id());
			r.put("shortDescription", Map.of("text", rule.title()));
			r.put("fullDescription", Map.of("text", rule.title() + ". Safe way: " + rule.safeAlternative() + "."));
			r.put("helpUri", docs + "#" + rule.id());
			r.put("help", Map.of("text", rule.safeAlternative()));
			r.put("defaultConfiguration", Map.of("level", rule.severity().label()));
			rules.add(r);
		}
		Map<String, Object> driver = new LinkedHashMap<>();
		driver.put("name", TOOL_NAME);
		driver.put("informationUri", docs);
		driver.put("rules", rules);

		List<Map<String, Object>> results = new ArrayList<>();
		for (Finding f : findings) {
			Map<String, Object> region = new LinkedHashMap<>();
			region.put("startLine", f.line());
			region.put("startColumn", f.column());
			region.put("snippet", Map.of("text", f.statement()));
			Map<String, Object> physical = new LinkedHashMap<>();
			physical.put("artifactLocation", Map.of("uri", uri(f.file())));
			physical.put("region", region);
			Map<String, Object> properties = new LinkedHashMap<>();
			properties.put("lockMode", f.lockMode().pgName());
			properties.put("relation", f.relation());
			properties.put("blocks", f.blocks());
			properties.put("safeAlternative", f.safeAlternative());
			Map<String, Object> result = new LinkedHashMap<>();
			result.put("ruleId", f.ruleId());
			result.put("ruleIndex", f.rule().ordinal());
			result.put("level", f.severity().label());
			result.put("message", Map.of("text", f.message() + " Lock: " + f.lockMode().pgName() + " on "
					+ f.relation() + ", blocks " + f.blocks() + ". Safe way: " + f.safeAlternative() + "."));
			result.put("locations", List.of(Map.of("physicalLocation", physical)));
			result.put("properties", properties);
			results.add(result);
		}
		Map<String, Object> run = new LinkedHashMap<>();
		run.put("tool", Map.of("driver", driver));
		run.put("results", results);
		Map<String, Object> log = new LinkedHashMap<>();
		log.put("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
		log.put("version", "2.1.0");
		log.put("runs", List.of(run));
		return Json.MAPPER.writeValueAsString(log) + "\n";
	}

	/** A relative path with forward slashes, or a file: URI for an absolute one. */
	static String uri(String file) {
		Path path = Paths.get(file);
		if (path.isAbsolute()) {
			return path.toUri().toString();
		}
		StringBuilder out = new StringBuilder();
		for (Path part : path.normalize()) {
			if (out.length() > 0) {
				out.append('/');
			}
			out.append(java.net.URLEncoder.encode(part.toString(), java.nio.charset.StandardCharsets.UTF_8)
				.replace("+", "%20"));
		}
		return out.toString();
	}

}
