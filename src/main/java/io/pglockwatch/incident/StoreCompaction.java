package io.pglockwatch.incident;

import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Shrinks the embedded H2 file of the incident store while the service runs, whenever the file has grown to more
 * than twice its live data (and by more than {@link #MIN_FREE_BYTES}).
 *
 * <p>H2 2.4 reuses space in its file only once a chunk is wholly dead, and its background compaction works only while
 * the store is idle: under the recorder's writes and pruning the file grew to 39x the size of a full rewrite (see
 * docs/benchmarks.md). Of the ways measured there, {@code SHUTDOWN COMPACT} between two moments of the pool kept the
 * file smallest and held callers for the shortest time (it copies the live data to a new file, about 0.2 s for
 * 1 MiB of it): the pool is suspended (new callers wait, they do not fail), the connections in use are waited for
 * (at most {@link #MAX_WAIT_FOR_CALLERS}, else it gives up until the next read), the database is closed with
 * {@code SHUTDOWN COMPACT} on a connection of its own, the pool's connections to the closed database are evicted, and
 * the pool resumes: the next connection opens the compacted file.
 *
 * <p>Live data is H2's own figure ({@code pglockwatch_store_live_bytes}: live pages, uncompressed). The file right
 * after {@code SHUTDOWN COMPACT} is smaller still, its pages being compressed; it is not the yardstick, as the pages
 * written afterwards are not, and it would call for a compaction every few minutes.
 *
 * <p>Needs a {@link HikariDataSource} with pool suspension allowed ({@link StorePoolSettings}). Called by
 * {@link StoreWatch} after each read of the store's size; never throws.
 */
public final class StoreCompaction implements MeterBinder {

	/** The goal: the file at most twice its live data. */
	static final double MAX_FILE_TO_LIVE = 2.0;

	/** Below this much free space the file is left alone: a small store is not worth a pause. */
	static final long MIN_FREE_BYTES = 1024 * 1024;

	/** How long to wait for the connections in use before closing the database; callers wait meanwhile. */
	static final Duration MAX_WAIT_FOR_CALLERS = Duration.ofSeconds(2);

	private static final Log logger = LogFactory.getLog(StoreCompaction.class);

	private final StoreReader reader;

	private final HikariDataSource pool;

	private volatile Counter compacted;

	private volatile Counter failed;

	private volatile Timer durations;

	/**
	 * How long callers were held, and the file's size before and after.
	 *
	 * @param beforeBytes the file before
	 * @param afterBytes the file after
	 * @param liveBytes the live data that made it compact
	 * @param took from suspending the pool to resuming it
	 */
	public record Outcome(long beforeBytes, long afterBytes, double liveBytes, Duration took) {
	}

	/** Compaction of the H2 file that {@code pool} opens, whose pool must allow suspension. */
	public StoreCompaction(HikariDataSource pool) {
		this(new StoreReader(StoreLocation.of(pool.getJdbcUrl()), pool, Duration.ofSeconds(5), Clock.systemUTC()), pool);
	}

	StoreCompaction(StoreReader reader, HikariDataSource pool) {
		this.reader = reader;
		this.pool = pool;
	}

	/** Reads the store's figures and compacts the file if it is sparse; null when nothing was done. */
	public Outcome compactIfSparse() {
		return compactIfSparse(this.reader.read());
	}

	/**
	 * Compacts the file if {@code figures} (a fresh read) show it sparse; null when nothing was done (also when the
	 * figures are unreadable, or the compaction failed, which is logged).
	 */
	Outcome compactIfSparse(StoreFigures figures) {
		double live = figures.liveBytes();
		if (!sparse(figures.sizeBytes(), live)) {
			return null;
		}
		Duration took;
		try {
			took = shutdownCompact();
		}
		catch (SQLException | RuntimeException ex) {
			count(this.failed);
			logger.warn("Could not compact the incident store's H2 file " + this.reader.location().file() + " ("
					+ mib(figures.sizeBytes()) + ", " + mib(live) + " live): " + ex);
			return null;
		}
		long after = fileSize();
		count(this.compacted);
		Timer timer = this.durations;
		if (timer != null) {
			timer.record(took.toNanos(), TimeUnit.NANOSECONDS);
		}
		logger.info("Compacted the incident store's H2 file from " + mib(figures.sizeBytes()) + " to " + mib(after)
				+ " (" + mib(live) + " live before); callers waited " + took.toMillis() + " ms");
		return new Outcome((long) figures.sizeBytes(), after, live, took);
	}

	/** Whether a file of {@code sizeBytes} with {@code liveBytes} of live data is worth compacting; false on NaN. */
	static boolean sparse(double sizeBytes, double liveBytes) {
		// NaN compares false: an unreadable figure never triggers a compaction
		return sizeBytes > MAX_FILE_TO_LIVE * liveBytes && sizeBytes - liveBytes > MIN_FREE_BYTES;
	}

	private Duration shutdownCompact() throws SQLException {
		HikariPoolMXBean control = this.pool.getHikariPoolMXBean();
		if (control == null) {
			// the pool has not started: nothing has written to the file through it yet
			throw new IllegalStateException("the connection pool has not started");
		}
		long began = System.nanoTime();
		control.suspendPool();
		try {
			long deadline = began + MAX_WAIT_FOR_CALLERS.toNanos();
			while (control.getActiveConnections() > 0) {
				if (System.nanoTime() - deadline > 0) {
					throw new IllegalStateException(control.getActiveConnections() + " connection(s) still in use after "
							+ MAX_WAIT_FOR_CALLERS.toMillis() + " ms; trying again at the next read");
				}
				sleep(Duration.ofMillis(2));
			}
			// a connection outside the pool: the pool's own would throw on close, its database being closed
			Properties login = new Properties();
			login.putAll(this.pool.getDataSourceProperties());
			putIfSet(login, "user", this.pool.getUsername());
			putIfSet(login, "password", this.pool.getPassword());
			try (Connection connection = DriverManager.getConnection(this.pool.getJdbcUrl(), login);
					Statement statement = connection.createStatement()) {
				statement.execute("SHUTDOWN COMPACT");
			}
			finally {
				control.softEvictConnections();
			}
		}
		finally {
			control.resumePool();
		}
		return Duration.ofNanos(System.nanoTime() - began);
	}

	private static void putIfSet(Properties properties, String name, String value) {
		if (value != null) {
			properties.setProperty(name, value);
		}
	}

	private static void sleep(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting for the connections in use", ex);
		}
	}

	private long fileSize() {
		try {
			return Files.size(this.reader.location().file());
		}
		catch (IOException ex) {
			return -1;
		}
	}

	private static void count(Counter counter) {
		if (counter != null) {
			counter.increment();
		}
	}

	private static String mib(double bytes) {
		return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024 * 1024));
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		String help = "Compactions of the incident store's H2 file while running (when it exceeds twice its live data)";
		this.compacted = Counter.builder("pglockwatch.store.compactions")
			.tag("outcome", "compacted")
			.description(help)
			.register(registry);
		this.failed = Counter.builder("pglockwatch.store.compactions")
			.tag("outcome", "failed")
			.description(help)
			.register(registry);
		this.durations = Timer.builder("pglockwatch.store.compaction.duration")
			.description("How long each compaction of the H2 file held the store's callers")
			.register(registry);
	}

}
