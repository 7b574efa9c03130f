package io.pglockwatch.gate;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.flywaydb.core.api.Location;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.configuration.Configuration;

/**
 * The statements of an SQL migration: its script found in the configured locations and split at the semicolons that
 * end statements (not those in strings, quoted names, dollar quotes or comments). Java migrations have none.
 */
final class MigrationStatements {

	private static final Pattern CREATE_INDEX_CONCURRENTLY = Pattern.compile(
			"^\\s*CREATE\\s+(?:UNIQUE\\s+)?INDEX\\s+CONCURRENTLY\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(\"(?:[^\"]|\"\")+\"|[\\p{L}_][\\p{L}\\p{N}_$]*)\\s+ON\\b",
			Pattern.CASE_INSENSITIVE);

	private MigrationStatements() {
	}

	/** The script's statements, or an empty list when it is not an SQL script the gate can find. */
	static List<String> of(MigrationInfo migration, Configuration configuration) {
		String text = script(migration, configuration);
		return text == null ? List.of() : split(text);
	}

	static String script(MigrationInfo migration, Configuration configuration) {
		String script = migration.getScript();
		if (script == null || !script.toLowerCase(Locale.ROOT).endsWith(".sql")) {
			return null;
		}
		Charset charset = configuration.getEncoding() == null ? StandardCharsets.UTF_8 : configuration.getEncoding();
		try {
			String physical = migration.getPhysicalLocation();
			if (physical != null && !physical.isBlank() && Files.isRegularFile(Path.of(physical))) {
				return Files.readString(Path.of(physical), charset);
			}
			for (Location location : configuration.getLocations()) {
				if (location.isFileSystem()) {
					Path path = Path.of(location.getRootPath(), script);
					if (Files.isRegularFile(path)) {
						return Files.readString(path, charset);
					}
				}
				else if (location.isClassPath()) {
					ClassLoader loader = configuration.getClassLoader() != null ? configuration.getClassLoader()
							: MigrationStatements.class.getClassLoader();
					String root = location.getRootPath();
					URL url = loader.getResource(root.isEmpty() ? script : root + "/" + script);
					if (url != null) {
						try (InputStream in = url.openStream()) {
							return new String(in.readAllBytes(), charset);
						}
					}
				}
			}
		}
		catch (IOException | RuntimeException e) {
			return null;
		}
		return null;
	}

	/** Splits SQL text into statements, dropping empty ones; keeps comments inside statements. */
	static List<String> split(String sql) {
		List<String> statements = new ArrayList<>();
		int start = 0;
		int i = 0;
		int n = sql.length();
		int depth = 0;
		while (i < n) {
			char c = sql.charAt(i);
			if (c == '\'' ) {
				i = skipQuoted(sql, i, '\'');
			}
			else if (c == '"') {
				i = skipQuoted(sql, i, '"');
			}
			else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
				int end = sql.indexOf('\n', i);
				i = end < 0 ? n : end + 1;
			}
			else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
				i = skipBlockComment(sql, i);
			}
			else if (c == '$' && (i == 0 || !Character.isLetterOrDigit(sql.charAt(i - 1)) && sql.charAt(i - 1) != '_')) {
				int close = sql.indexOf('$', i + 1);
				String tag = close < 0 ? null : sql.substring(i, close + 1);
				if (tag != null && tag.substring(1, tag.length() - 1).matches("[\\p{L}_][\\p{L}\\p{N}_]*|")) {
					int end = sql.indexOf(tag, close + 1);
					i = end < 0 ? n : end + tag.length();
				}
				else {
					i++;
				}
			}
			else if (c == '(') {
				depth++;
				i++;
			}
			else if (c == ')') {
				depth = Math.max(0, depth - 1);
				i++;
			}
			else if (c == ';' && depth == 0) {
				add(statements, sql.substring(start, i));
				i++;
				start = i;
			}
			else {
				i++;
			}
		}
		add(statements, sql.substring(start));
		return statements;
	}

	/** The names of the indexes the statements create with CREATE INDEX CONCURRENTLY, as PostgreSQL stores them. */
	static Set<String> concurrentIndexNames(List<String> statements) {
		Set<String> names = new LinkedHashSet<>();
		for (String statement : statements) {
			Matcher m = CREATE_INDEX_CONCURRENTLY.matcher(withoutLeadingComments(statement));
			if (m.find()) {
				String name = m.group(1);
				names.add(name.startsWith("\"") ? name.substring(1, name.length() - 1).replace("\"\"", "\"")
						: name.toLowerCase(Locale.ROOT));
			}
		}
		return names;
	}

	static String withoutLeadingComments(String statement) {
		String s = statement.strip();
		while (true) {
			if (s.startsWith("--")) {
				int end = s.indexOf('\n');
				s = end < 0 ? "" : s.substring(end + 1).strip();
			}
			else if (s.startsWith("/*")) {
				int end = skipBlockComment(s, 0);
				s = s.substring(Math.min(end, s.length())).strip();
			}
			else {
				return s;
			}
		}
	}

	private static void add(List<String> statements, String statement) {
		if (!withoutLeadingComments(statement).isEmpty()) {
			statements.add(statement.strip());
		}
	}

	private static int skipQuoted(String sql, int i, char quote) {
		int j = i + 1;
		while (j < sql.length()) {
			if (sql.charAt(j) == quote) {
				if (j + 1 < sql.length() && sql.charAt(j + 1) == quote) {
					j += 2;
					continue;
				}
				return j + 1;
			}
			j++;
		}
		return sql.length();
	}

	private static int skipBlockComment(String sql, int i) {
		int depth = 0;
		int j = i;
		while (j < sql.length()) {
			if (sql.startsWith("/*", j)) {
				depth++;
				j += 2;
			}
			else if (sql.startsWith("*/", j)) {
				depth--;
				j += 2;
				if (depth == 0) {
					return j;
				}
			}
			else {
				j++;
			}
		}
		return sql.length();
	}

}
