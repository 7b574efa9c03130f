package io.pglockwatch.incident;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.sql.DataSource;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads the size of the incident store once: the H2 file and its file system, or the PostgreSQL database. Each
 * statement has a short timeout, so a store that hangs costs a read, not a thread forever. Never throws: a figure it
 * cannot read is NaN and named in {@link StoreFigures#unreadable()}.
 *
 * <p>Live bytes of an H2 file come from the MVStore's own figures in {@code INFORMATION_SCHEMA.SETTINGS}:
 * {@code info.FILE_SIZE} x {@code info.FILL_RATE} (the share of the file's blocks that chunks use) x
 * {@code info.CHUNKS_FILL_RATE} (the share of live pages in those chunks), both whole percentages. The rest is free
 * space H2 reuses for new chunks; the file itself shrinks only on {@code SHUTDOWN COMPACT}.
 */
final class StoreReader {

	/** The store's own tables (Flyway's history included), whose size is its live data in a PostgreSQL database. */
	private static final String POSTGRES_TABLES_SIZE = """
			SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)
			FROM pg_class c
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
			  AND c.relname IN ('incident', 'incident_timeline', 'alert_outbox', 'guard_action', 'flyway_schema_history')
			""";

	private static final String H2_STORE_INFO = """
			SELECT SETTING_NAME, SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS
			WHERE SETTING_NAME IN ('info.FILE_SIZE', 'info.FILL_RATE', 'info.CHUNKS_FILL_RATE')
			""";

	private final StoreLocation location;

	private final JdbcTemplate jdbc;

	private final Clock clock;

	StoreReader(StoreLocation location, DataSource dataSource, Duration queryTimeout, Clock clock) {
		this.location = location;
		this.jdbc = new JdbcTemplate(dataSource);
		this.jdbc.setQueryTimeout((int) Math.max(1, queryTimeout.toSeconds()));
		this.clock = clock;
	}

	StoreLocation location() {
		return this.location;
	}

	/** The figures now; throws nothing (a read that fails leaves its figures NaN). */
	StoreFigures read() {
		Map<String, String> unreadable = new LinkedHashMap<>();
		double size = Double.NaN;
		double live = Double.NaN;
		double free = Double.NaN;
		double total = Double.NaN;
		switch (this.location.type()) {
			case StoreLocation.H2_FILE -> {
				Path file = this.location.file();
				try {
					size = Files.size(file);
				}
				catch (IOException | RuntimeException ex) {
					unreadable.put("size", why(ex));
				}
				try {
					live = h2Live();
					if (!Double.isNaN(size)) {
						// the MVStore's figures may lag the file by a write; live data never exceeds the file
						live = Math.min(live, size);
					}
				}
				catch (RuntimeException ex) {
					unreadable.put("live", why(ex));
				}
				try {
					// the file may not exist before the first connection: then its directory's file system counts
					FileStore volume = Files.getFileStore(existing(file));
					free = volume.getUsableSpace();
					total = volume.getTotalSpace();
				}
				catch (IOException | RuntimeException ex) {
					unreadable.put("volume", why(ex));
				}
			}
			case StoreLocation.POSTGRESQL -> {
				try {
					size = this.jdbc.queryForObject("SELECT pg_database_size(current_database())", Long.class);
				}
				catch (RuntimeException ex) {
					unreadable.put("size", why(ex));
				}
				try {
					live = this.jdbc.queryForObject(POSTGRES_TABLES_SIZE, Long.class);
				}
				catch (RuntimeException ex) {
					unreadable.put("live", why(ex));
				}
			}
			default -> {
				// in memory, or a store pg-lockwatch cannot see the files of: nothing to read
			}
		}
		return new StoreFigures(size, live, free, total, unreadable, this.clock.instant());
	}

	private double h2Live() {
		Map<String, String> info = new HashMap<>();
		this.jdbc.query(H2_STORE_INFO, (rs) -> {
			info.put(rs.getString(1), rs.getString(2));
		});
		double fileSize = number(info, "info.FILE_SIZE");
		double fillRate = number(info, "info.FILL_RATE");
		double chunksFillRate = number(info, "info.CHUNKS_FILL_RATE");
		return Math.floor(fileSize * fillRate / 100 * chunksFillRate / 100);
	}

	private static double number(Map<String, String> info, String name) {
		String value = info.get(name);
		if (value == null) {
			throw new IllegalStateException(name + " is not in INFORMATION_SCHEMA.SETTINGS");
		}
		return Double.parseDouble(value.trim());
	}

	private static String why(Exception ex) {
		return ex.getClass().getSimpleName() + ": " + ex.getMessage();
	}

	private static Path existing(Path file) {
		Path path = file;
		while (path != null && !Files.exists(path)) {
			path = path.getParent();
		}
		return (path != null) ? path : file;
	}

}
