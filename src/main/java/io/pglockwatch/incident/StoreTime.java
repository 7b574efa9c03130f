package io.pglockwatch.incident;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * Instants in and out of the incident store's {@code timestamp with time zone} columns, the same way for H2 and
 * PostgreSQL: JDBC 4.2 binds OffsetDateTime (not Instant), and both keep microseconds, so values are cut to them
 * and read back equal.
 */
public final class StoreTime {

	private StoreTime() {
	}

	/** A bind value for a timestamp column; null stays null. */
	public static OffsetDateTime bind(Instant instant) {
		return (instant == null) ? null : instant.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
	}

	/** A timestamp column as an Instant; SQL NULL is null. */
	public static Instant read(ResultSet rs, String column) throws SQLException {
		OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
		return (value == null) ? null : value.toInstant();
	}

}
