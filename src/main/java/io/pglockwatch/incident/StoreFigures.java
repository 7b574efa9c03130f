package io.pglockwatch.incident;

import java.time.Instant;
import java.util.Map;

/**
 * What a read of the incident store's size found; a figure that is not known, or could not be read, is NaN (never a
 * made-up 0).
 *
 * @param sizeBytes the H2 file's size, or the PostgreSQL database's ({@code pg_database_size})
 * @param liveBytes the live data in the H2 file, or the store's tables in the PostgreSQL database
 * @param volumeFreeBytes usable space on the file system of the H2 file
 * @param volumeTotalBytes size of the file system of the H2 file
 * @param unreadable the figures that should be known for this kind of store but could not be read ({@code size},
 * {@code live}, {@code volume}), each with why (for the log only); empty when all is well
 * @param readAt when the read finished
 */
public record StoreFigures(double sizeBytes, double liveBytes, double volumeFreeBytes, double volumeTotalBytes,
		Map<String, String> unreadable, Instant readAt) {

	public StoreFigures {
		unreadable = Map.copyOf(unreadable);
	}

}
