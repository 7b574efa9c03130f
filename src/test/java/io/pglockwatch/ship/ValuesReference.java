package io.pglockwatch.ship;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The chart's values as its README documents them: one row per value of values.yaml (path, type, default,
 * description), the description taken from the comment above the key in values.yaml, the type from
 * values.schema.json, the default from values.yaml. The schema decides what a value is: an object with
 * {@code properties} is a section whose keys get rows of their own; anything else (a free map such as
 * {@code podAnnotations}, a list, a scalar) is one value.
 *
 * <p>Only the prose of a comment is a description: a comment's indented lines (an example entry, a list of keys)
 * stay in values.yaml, and the description says so.
 */
final class ValuesReference {

	static final String TABLE_START = "<!-- values table: generated from values.yaml and values.schema.json; do not edit -->";

	static final String TABLE_END = "<!-- end of values table -->";

	static final String EXAMPLE_IN_VALUES = " (listed in values.yaml)";

	private static final Pattern KEY = Pattern.compile("^(\\s*)([A-Za-z0-9_.\"/-]+):(\\s|$)");

	private final Map<String, String> comments;

	private final Object values;

	private final JsonNode schema;

	private ValuesReference(Map<String, String> comments, Object values, JsonNode schema) {
		this.comments = comments;
		this.values = values;
		this.schema = schema;
	}

	static ValuesReference ofChart() throws IOException {
		String text = Files.readString(HelmChart.VALUES, StandardCharsets.UTF_8);
		JsonNode schema = JsonMapper.builder().build().readTree(Files.readString(HelmChart.SCHEMA, StandardCharsets.UTF_8));
		return new ValuesReference(comments(text), HelmChart.loadYaml(text), schema);
	}

	/** One row of the table. */
	record Row(String path, String type, String defaultValue, String description) {
	}

	/** The comment prose above every key of values.yaml, by dotted path, in file order. */
	Map<String, String> comments() {
		return this.comments;
	}

	JsonNode schema() {
		return this.schema;
	}

	/** The schema of a dotted path, or a missing node. */
	JsonNode schemaOf(String path) {
		JsonNode node = this.schema;
		for (String key : path.split("\\.")) {
			node = node.path("properties").path(key);
		}
		return node;
	}

	/**
	 * The paths of values.yaml that are values or sections of values, with their comment, in file order: not the
	 * keys inside a value that is a free map (the default label of {@code metrics.grafanaDashboard.labels}).
	 */
	Map<String, String> paths() {
		Map<String, String> paths = new LinkedHashMap<>();
		this.comments.forEach((path, description) -> {
			int dot = path.lastIndexOf('.');
			if (dot < 0 || schemaOf(path.substring(0, dot)).has("properties")) {
				paths.put(path, description);
			}
		});
		return paths;
	}

	/** Every value, in values.yaml order. */
	List<Row> rows() {
		List<Row> rows = new ArrayList<>();
		paths().forEach((path, description) -> {
			JsonNode schema = schemaOf(path);
			if (schema.has("properties")) {
				return;
			}
			rows.add(new Row(path, type(schema), render(HelmChart.at(this.values, (Object[]) path.split("\\."))), description));
		});
		return rows;
	}

	/** The Markdown table, between its markers. */
	String table() {
		StringBuilder out = new StringBuilder(TABLE_START).append("\n\n");
		out.append("| Value | Type | Default | Description |\n");
		out.append("|---|---|---|---|\n");
		for (Row row : rows()) {
			out.append("| `").append(row.path()).append("` | ").append(cell(row.type())).append(" | `")
				.append(cell(row.defaultValue())).append("` | ").append(cell(row.description())).append(" |\n");
		}
		return out.append("\n").append(TABLE_END).toString();
	}

	/** The README with its table replaced by the current one. */
	static String withTable(String readme, String table) {
		int start = readme.indexOf(TABLE_START);
		int end = readme.indexOf(TABLE_END);
		if (start < 0 || end < start) {
			throw new IllegalStateException(HelmChart.README + " has no values table markers: " + TABLE_START + " ... " + TABLE_END);
		}
		return readme.substring(0, start) + table + readme.substring(end + TABLE_END.length());
	}

	/** The type column: the schema's type(s), with the allowed values of an enum. */
	static String type(JsonNode schema) {
		List<String> types = new ArrayList<>();
		JsonNode type = schema.path("type");
		if (type.isArray()) {
			type.forEach((t) -> types.add(t.asString()));
		}
		else if (!type.isMissingNode()) {
			types.add(type.asString());
		}
		String result = String.join(" or ", types);
		String pattern = schema.path("pattern").asString("");
		if (pattern.contains("ns|us|ms|s|m|h|d")) {
			result += " (duration)";
		}
		else if (pattern.contains("ms|s|m|h|d|w|y")) {
			result += " (Prometheus duration)";
		}
		else if (pattern.contains("Ki|Mi|Gi")) {
			result += " (quantity)";
		}
		if (schema.has("enum")) {
			List<String> allowed = new ArrayList<>();
			schema.get("enum").forEach((e) -> allowed.add("`" + (e.asString().isEmpty() ? "\"\"" : e.asString()) + "`"));
			result += ": " + String.join(", ", allowed);
		}
		return result;
	}

	/** A default as written in values.yaml: scalars bare, "" for an empty string, lists and maps in flow style. */
	static String render(Object value) {
		if (value instanceof String s) {
			return s.isEmpty() ? "\"\"" : s;
		}
		if (value instanceof Map<?, ?> map) {
			List<String> entries = new ArrayList<>();
			map.forEach((k, v) -> entries.add(k + ": " + renderNested(v)));
			return "{" + String.join(", ", entries) + "}";
		}
		if (value instanceof List<?> list) {
			List<String> items = new ArrayList<>();
			list.forEach((v) -> items.add(renderNested(v)));
			return "[" + String.join(", ", items) + "]";
		}
		return String.valueOf(value);
	}

	private static String renderNested(Object value) {
		return (value instanceof String s) ? "\"" + s + "\"" : render(value);
	}

	private static String cell(String text) {
		return text.replace("|", "\\|").replace("\n", " ");
	}

	/**
	 * The prose of the comment block right above each key (no blank line between), by dotted path. A comment at
	 * the end of the key's line counts when there is no block.
	 */
	static Map<String, String> comments(String valuesYaml) {
		List<String> lines = valuesYaml.lines().toList();
		Map<String, String> comments = new LinkedHashMap<>();
		Deque<Map.Entry<Integer, String>> open = new ArrayDeque<>();
		for (int i = 0; i < lines.size(); i++) {
			String line = lines.get(i);
			String stripped = line.strip();
			Matcher key = KEY.matcher(line);
			if (stripped.startsWith("#") || stripped.startsWith("- ") || !key.find()) {
				continue;
			}
			int indent = key.group(1).length();
			while (!open.isEmpty() && open.peekLast().getKey() >= indent) {
				open.removeLast();
			}
			open.addLast(Map.entry(indent, key.group(2).replace("\"", "")));
			String path = String.join(".", open.stream().map(Map.Entry::getValue).toList());
			List<String> block = new ArrayList<>();
			for (int j = i - 1; j >= 0 && lines.get(j).strip().startsWith("#"); j--) {
				block.add(0, lines.get(j).strip().substring(1));
			}
			List<String> prose = new ArrayList<>();
			boolean example = false;
			for (String comment : block) {
				if (comment.startsWith("  ") || comment.strip().startsWith("#")) {
					example = true;
					break;
				}
				prose.add(comment.strip());
			}
			String description = String.join(" ", prose);
			if (example) {
				description += EXAMPLE_IN_VALUES;
			}
			int inline = line.indexOf(" # ");
			if (description.isEmpty() && inline > 0) {
				description = line.substring(inline + 3).strip();
			}
			comments.put(path, description);
		}
		return comments;
	}

	/** Writes the current table into the chart's README: {@code -Dchart.readme.update=true} on the test. */
	static void updateReadme() throws IOException {
		String readme = Files.readString(HelmChart.README, StandardCharsets.UTF_8);
		Files.writeString(HelmChart.README, withTable(readme, ofChart().table()), StandardCharsets.UTF_8);
	}

	static boolean updateRequested() {
		return Boolean.getBoolean("chart.readme.update");
	}

}
