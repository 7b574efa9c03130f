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

import io.pglockwatch.lint.SqlScript;
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

	/**
	 * Splits SQL text into statements with the lint's reader of scripts, each from its first word (leading comments
	 * left out) up to its semicolon; a script it cannot read (an unclosed string or comment) has none the gate knows.
	 */
	static List<String> split(String sql) {
		try {
			return SqlScript.parse(sql).stream().map((statement) -> statement.text().strip()).toList();
		}
		catch (SqlScript.MalformedSqlException ex) {
			return List.of();
		}
	}

	/** The names of the indexes the statements create with CREATE INDEX CONCURRENTLY, as PostgreSQL stores them. */
	static Set<String> concurrentIndexNames(List<String> statements) {
		Set<String> names = new LinkedHashSet<>();
		for (String statement : statements) {
			Matcher m = CREATE_INDEX_CONCURRENTLY.matcher(statement);
			if (m.find()) {
				String name = m.group(1);
				names.add(name.startsWith("\"") ? name.substring(1, name.length() - 1).replace("\"\"", "\"")
						: name.toLowerCase(Locale.ROOT));
			}
		}
		return names;
	}

}
