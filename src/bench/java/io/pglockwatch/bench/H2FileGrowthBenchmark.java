package io.pglockwatch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pglockwatch.detect.DdlFacts;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import io.pglockwatch.incident.IncidentStore;
import io.pglockwatch.incident.StoreCompaction;
import io.pglockwatch.lock.LockMode;
import org.flywaydb.core.Flyway;

import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * How big the embedded H2 file of the incident store grows next to its live data, under the service's write
 * pattern, with H2's defaults and with the alternatives: MVStore settings in the URL, and a periodic online
 * compaction. Each case writes the same incidents through the real {@link IncidentStore} on a Hikari pool: opened,
 * updated on every poll (about a dozen upserts and timeline points each), a peak lock-wait graph of about 20 KB JSON
 * saved three times, an alert outbox row queued and marked sent for the trigger and the resolve, then resolved; and
 * every {@code prune-every} incidents pruned to the newest {@code keep}, as the recorder does. A pause after each poll
 * leaves H2's background writer the time it has in the service.
 * <p>
 * Per case it prints the file at half time and at the end, H2's own live-data figure (what the
 * {@code pglockwatch_store_live_bytes} gauge reports), the size after {@code SHUTDOWN COMPACT} (the floor), the page
 * cache in use, and for the compacting cases how many compactions ran and the longest (callers wait for it).
 * <p>
 * The compacting cases check the file every 5 s (the service every 60 s) and compact when it is more than twice its
 * live data: {@code compact-online} with the MVStore's {@code compactFile} (H2's internal API), {@code
 * shutdown-compact} with the service's {@link StoreCompaction} ({@code SHUTDOWN COMPACT} in a suspended pool).
 * <p>
 * Run with {@code bench/h2-file-growth.sh [incidents] [keep] [prune-every] [poll-pause-ms] [case...]} (default 1500
 * 300 50 4, all cases).
 */
public final class H2FileGrowthBenchmark {

	/** How often the compacting cases look at the file, like the store watch's tick (which is 60 s in the service). */
	private static final Duration CHECK_EVERY = Duration.ofSeconds(5);

	private static final int POLLS_PER_INCIDENT = 12;

	/** How a case keeps the file small while running: not at all, with StoreCompaction, or closing it in between. */
	private enum Compaction {

		NONE, ONLINE, SHUTDOWN

	}

	private record Case(String name, String urlSettings, Compaction compaction) {
	}

	private static final List<Case> CASES = List.of(new Case("defaults", "", Compaction.NONE),
			new Case("retention-0", ";RETENTION_TIME=0", Compaction.NONE),
			new Case("retention-0-write-delay-0", ";RETENTION_TIME=0;WRITE_DELAY=0", Compaction.NONE),
			new Case("auto-compact-100", ";RETENTION_TIME=0;AUTO_COMPACT_FILL_RATE=100", Compaction.NONE),
			new Case("compact-online", "", Compaction.ONLINE),
			new Case("shutdown-compact", "", Compaction.SHUTDOWN));

	private record Result(String name, long halfBytes, long endBytes, long liveBytes, long compactedBytes,
			int cacheUsedMb, int compactions, long longestCompactionMs, long longestWriteMs, Duration took) {
	}

	private H2FileGrowthBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int incidents = (args.length > 0) ? Integer.parseInt(args[0]) : 1500;
		int keep = (args.length > 1) ? Integer.parseInt(args[1]) : 300;
		int pruneEvery = (args.length > 2) ? Integer.parseInt(args[2]) : 50;
		long pauseMs = (args.length > 3) ? Long.parseLong(args[3]) : 4;
		List<String> wanted = (args.length > 4) ? List.of(args).subList(4, args.length) : List.of();
		// the pool's and Flyway's INFO lines would bury the table
		((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
			.setLevel(ch.qos.logback.classic.Level.WARN);
		Path base = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "h2-file-growth");
		System.out.printf(Locale.ROOT, "%d incidents, pruned to the newest %d every %d, %d ms pause after each of %d "
				+ "polls; H2 %s%n%n", incidents, keep, pruneEvery, pauseMs, POLLS_PER_INCIDENT,
				org.h2.engine.Constants.FULL_VERSION);
		List<Result> results = new ArrayList<>();
		for (Case c : CASES) {
			if (wanted.isEmpty() || wanted.contains(c.name())) {
				Result result = run(c, base.resolve(c.name()), incidents, keep, pruneEvery, pauseMs);
				results.add(result);
				System.out.printf(Locale.ROOT, "%s done in %ds%n", c.name(), result.took().toSeconds());
			}
		}
		print(results);
	}

	private static Result run(Case c, Path dir, int incidents, int keep, int pruneEvery, long pauseMs)
			throws Exception {
		Files.createDirectories(dir);
		Path file = dir.resolve("store.mv.db");
		String url = "jdbc:h2:file:" + dir.resolve("store") + c.urlSettings();
		HikariConfig config = new HikariConfig();
		config.setJdbcUrl(url);
		config.setUsername("sa");
		config.setPassword("");
		config.setMaximumPoolSize(10);
		config.setAllowPoolSuspension(c.compaction() == Compaction.SHUTDOWN);
		long start = System.nanoTime();
		long half = 0;
		AtomicLong compactions = new AtomicLong();
		AtomicLong longestCompaction = new AtomicLong();
		long longestWrite = 0;
		try (HikariDataSource dataSource = new HikariDataSource(config)) {
			Flyway.configure().dataSource(dataSource).locations("classpath:db/migration/h2").load().migrate();
			JdbcClient jdbc = JdbcClient.create(dataSource);
			IncidentStore store = new IncidentStore(jdbc);
			ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor();
			StoreCompaction shutdown = new StoreCompaction(dataSource);
			if (c.compaction() != Compaction.NONE) {
				watch.scheduleWithFixedDelay(() -> {
					Duration took = (c.compaction() == Compaction.ONLINE) ? compactFileIfSparse(dataSource, file)
							: took(shutdown.compactIfSparse());
					if (took != null) {
						compactions.incrementAndGet();
						longestCompaction.accumulateAndGet(took.toMillis(), Math::max);
					}
				}, CHECK_EVERY.toMillis(), CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
			}
			String graph = peakGraph();
			Instant t0 = Instant.parse("2026-01-05T09:00:00Z");
			for (int n = 1; n <= incidents; n++) {
				longestWrite = Math.max(longestWrite, incident(store, jdbc, n, t0.plusSeconds(60L * n), graph, pauseMs));
				if (n % pruneEvery == 0) {
					store.prune(null, keep);
				}
				if (n == incidents / 2) {
					half = Files.size(file);
				}
			}
			watch.shutdown();
			watch.awaitTermination(1, TimeUnit.MINUTES);
			// the background writer's last say, as a running service would have it
			Thread.sleep(2000);
			long end = Files.size(file);
			Map<String, String> info = info(dataSource);
			long live = (long) (Double.parseDouble(info.get("info.FILE_SIZE")) * Double.parseDouble(info.get("info.FILL_RATE"))
					/ 100 * Double.parseDouble(info.get("info.CHUNKS_FILL_RATE")) / 100);
			int cacheUsed = Integer.parseInt(info.get("info.CACHE_SIZE"));
			dataSource.getHikariPoolMXBean().softEvictConnections();
			dataSource.close();
			try (Connection connection = DriverManager.getConnection(url, "sa", "");
					Statement statement = connection.createStatement()) {
				statement.execute("SHUTDOWN COMPACT");
			}
			long compacted = Files.size(file);
			return new Result(c.name(), half, end, Math.min(live, end), compacted, cacheUsed, (int) compactions.get(),
					longestCompaction.get(), longestWrite, Duration.ofNanos(System.nanoTime() - start));
		}
	}

	private static Duration took(StoreCompaction.Outcome outcome) {
		return (outcome != null) ? outcome.took() : null;
	}

	/**
	 * The other way: H2's online compaction, {@code MVStore.compactFile} (rewrite sparse chunks, move chunks to the
	 * start, truncate), reached through H2's engine classes (internal API: there is no SQL statement for it), up to
	 * three passes in 2 s, with the database open; writers wait on the store lock meanwhile. Its retention time,
	 * which compactFile sets to 0, is put back. Returns how long it took, or null when the file was not sparse.
	 */
	private static Duration compactFileIfSparse(HikariDataSource dataSource, Path file) {
		try {
			Map<String, String> info = info(dataSource);
			double live = Double.parseDouble(info.get("info.FILE_SIZE")) * Double.parseDouble(info.get("info.FILL_RATE"))
					/ 100 * Double.parseDouble(info.get("info.CHUNKS_FILL_RATE")) / 100;
			if (Files.size(file) <= 2 * live || Files.size(file) - live <= 1024 * 1024) {
				return null;
			}
			long began = System.nanoTime();
			try (Connection connection = dataSource.getConnection()) {
				org.h2.mvstore.MVStore store = ((org.h2.engine.SessionLocal) connection
					.unwrap(org.h2.jdbc.JdbcConnection.class)
					.getSession()).getDatabase().getStore().getMvStore();
				int retention = store.getRetentionTime();
				long deadline = began + 2_000_000_000L;
				try {
					for (int pass = 0; pass < 3 && System.nanoTime() < deadline; pass++) {
						store.compactFile((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
						if (Files.size(file) <= 2 * live) {
							break;
						}
						store.commit();
					}
				}
				finally {
					store.setRetentionTime(retention);
				}
			}
			return Duration.ofNanos(System.nanoTime() - began);
		}
		catch (Exception ex) {
			System.err.println("compact-online failed: " + ex);
			return null;
		}
	}

	/** One incident's life as the recorder writes it; returns the longest single write (ms). */
	private static long incident(IncidentStore store, JdbcClient jdbc, int n, Instant opened, String graph,
			long pauseMs) throws InterruptedException {
		String id = "inc-" + n;
		String key = "prod|ddl-lock-queue|" + (4000 + n) + "|" + opened;
		long longest = 0;
		for (int poll = 0; poll < POLLS_PER_INCIDENT; poll++) {
			long began = System.nanoTime();
			Instant at = opened.plusSeconds(poll);
			IncidentState state = (poll == POLLS_PER_INCIDENT - 1) ? IncidentState.RESOLVED
					: (poll >= 3) ? IncidentState.ESCALATED : IncidentState.OPEN;
			int depth = Math.min(poll * 5, 40);
			store.save(incident(id, key, opened, at, state, depth));
			if (poll % 3 == 0) {
				store.appendTimeline(id, new TimelinePoint(at, depth, Duration.ofSeconds(poll)));
			}
			else {
				store.moveLastTimelinePoint(id, new TimelinePoint(at, depth, Duration.ofSeconds(poll)));
				store.appendTimeline(id, new TimelinePoint(at, depth, Duration.ofSeconds(poll)));
			}
			if (poll == 2 || poll == 5 || poll == 8) {
				store.savePeakGraph(id, graph);
			}
			if (poll == 3 || state == IncidentState.RESOLVED) {
				String action = (poll == 3) ? "trigger" : "resolve";
				long outbox = jdbc.sql("""
						INSERT INTO alert_outbox (incident_id, channel, action, dedup_key, payload, state, attempts,
							created_at, next_attempt_at)
						VALUES (:id, 'pagerduty', :action, :key, :payload, 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)
						""").param("id", id).param("action", action).param("key", key)
					.param("payload", "{\"event_action\":\"" + action + "\",\"dedup_key\":\"" + key + "\",\"payload\":"
							+ "{\"summary\":\"ALTER TABLE public.orders waits for AccessExclusiveLock; 37 queued behind it\","
							+ "\"severity\":\"critical\",\"source\":\"prod\"}}")
					.update();
				jdbc.sql("UPDATE alert_outbox SET state = 'sent', attempts = 1, sent_at = CURRENT_TIMESTAMP, "
						+ "last_status = 202 WHERE incident_id = :id AND action = :action")
					.param("id", id).param("action", action).update();
				longest = Math.max(longest, outbox);
			}
			longest = Math.max(longest, (System.nanoTime() - began) / 1_000_000);
			Thread.sleep(pauseMs);
		}
		return longest;
	}

	private static Incident incident(String id, String key, Instant opened, Instant at, IncidentState state,
			int depth) {
		SessionFacts ddl = new SessionFacts(4242, opened.minusSeconds(30), "active", "migrate", "deploy", "10.0.4.17",
				"shop", opened.minusSeconds(2), Duration.ofSeconds(2), null,
				"ALTER TABLE public.orders ADD COLUMN note text", "ALTER TABLE", null);
		SessionFacts root = new SessionFacts(4100, opened.minusSeconds(3600), "idle in transaction", "billing-batch",
				"billing", "10.0.7.3", "shop", opened.minusSeconds(900), Duration.ofSeconds(900), Duration.ofSeconds(890),
				"SELECT * FROM public.orders WHERE id = $1 FOR SHARE", "SELECT", null);
		Duration waited = Duration.between(opened, at);
		return new Incident(id, key, "prod", IncidentKind.DDL_LOCK_QUEUE,
				(state == IncidentState.OPEN) ? Severity.WARNING : Severity.CRITICAL, state, opened,
				(state != IncidentState.OPEN) ? opened.plusSeconds(3) : null,
				(state == IncidentState.RESOLVED) ? at : null, at,
				new DdlFacts(ddl, LockMode.ACCESS_EXCLUSIVE, "public.orders", waited), root, depth, depth, waited, "shop");
	}

	/** A lock-wait graph of about 20 KB: the shape PeakGraph writes, with 120 queued sessions. */
	private static String peakGraph() {
		StringBuilder json = new StringBuilder("{\"nodes\":[");
		for (int i = 0; i < 120; i++) {
			json.append(i > 0 ? "," : "")
				.append(String.format(Locale.ROOT, "{\"pid\":%d,\"mode\":\"RowExclusiveLock\",\"relation\":\"public.orders\","
						+ "\"waited_ms\":%d,\"application\":\"api-%d\",\"query\":\"UPDATE orders SET st = $1 WHERE id = $2\"}",
						5000 + i, 1000 + 17 * i, i % 7));
		}
		json.append("],\"edges\":[");
		for (int i = 1; i < 120; i++) {
			json.append(i > 1 ? "," : "").append(String.format(Locale.ROOT, "{\"from\":%d,\"to\":4242,\"hard\":%b}", 5000 + i, i % 3 == 0));
		}
		return json.append("]}").toString();
	}

	private static Map<String, String> info(DataSource dataSource) throws SQLException {
		Map<String, String> info = new HashMap<>();
		JdbcClient.create(dataSource)
			.sql("SELECT SETTING_NAME, SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME LIKE 'info.%'")
			.query((rs) -> {
				info.put(rs.getString(1), rs.getString(2).trim());
			});
		return info;
	}

	private static void print(List<Result> results) throws IOException {
		Result defaults = results.stream().filter((r) -> r.name().equals("defaults")).findFirst().orElse(null);
		System.out.println();
		System.out.println("| case | file at half (KiB) | file at end (KiB) | live, H2's figure (KiB) | after SHUTDOWN COMPACT "
				+ "(KiB) | file / compacted | end vs defaults | page cache used (MiB) | compactions | longest (ms) | "
				+ "longest write (ms) | run (s) |");
		System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (Result r : results) {
			System.out.printf(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %.1f | %s | %d | %d | %d | %d | %d |%n", r.name(),
					r.halfBytes() / 1024, r.endBytes() / 1024, r.liveBytes() / 1024, r.compactedBytes() / 1024,
					(double) r.endBytes() / r.compactedBytes(),
					(defaults != null) ? String.format(Locale.ROOT, "%.2f", (double) r.endBytes() / defaults.endBytes()) : "-",
					r.cacheUsedMb(), r.compactions(), r.longestCompactionMs(), r.longestWriteMs(), r.took().toSeconds());
		}
	}

}
