package io.pglockwatch.incident;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the incident store lives, as far as its JDBC URL tells: an H2 file (and then which file), an in-memory H2, a
 * PostgreSQL database, or something else (an H2 server, another driver) whose size pg-lockwatch does not read.
 *
 * @param type {@code h2-file}, {@code h2-memory}, {@code postgresql} or {@code other}
 * @param file the H2 database file ({@code <path>.mv.db}, absolute); null unless {@code h2-file}
 */
public record StoreLocation(String type, Path file) {

	static final String H2_FILE = "h2-file";

	static final String H2_MEMORY = "h2-memory";

	static final String POSTGRESQL = "postgresql";

	static final String OTHER = "other";

	/**
	 * The location of the store at {@code url}. An H2 path without a {@code file:} prefix is a file too, as H2 reads
	 * it; a relative path is resolved against the working directory, and {@code ~} is the user's home, as H2 does.
	 */
	static StoreLocation of(String url) {
		if (url == null) {
			return new StoreLocation(OTHER, null);
		}
		String lower = url.toLowerCase(Locale.ROOT);
		if (lower.startsWith("jdbc:postgresql:")) {
			return new StoreLocation(POSTGRESQL, null);
		}
		if (!lower.startsWith("jdbc:h2:")) {
			return new StoreLocation(OTHER, null);
		}
		String rest = url.substring("jdbc:h2:".length());
		int settings = rest.indexOf(';');
		if (settings >= 0) {
			rest = rest.substring(0, settings);
		}
		String restLower = rest.toLowerCase(Locale.ROOT);
		if (restLower.startsWith("mem:")) {
			return new StoreLocation(H2_MEMORY, null);
		}
		if (restLower.startsWith("file:")) {
			rest = rest.substring("file:".length());
		}
		else if (restLower.matches("^[a-z]{2,}:.*")) {
			// tcp:, ssl:, zip:, nio... : a server or a file system H2 reads itself; not a file of this process
			return new StoreLocation(OTHER, null);
		}
		if (rest.isEmpty()) {
			return new StoreLocation(OTHER, null);
		}
		if (rest.equals("~") || rest.startsWith("~/") || rest.startsWith("~\\")) {
			rest = System.getProperty("user.home") + rest.substring(1);
		}
		return new StoreLocation(H2_FILE, Path.of(rest + ".mv.db").toAbsolutePath().normalize());
	}

}
