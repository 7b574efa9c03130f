package io.pglockwatch.incident;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pglockwatch.detect.Incident;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.detect.IncidentState;
import io.pglockwatch.detect.Severity;
import io.pglockwatch.detect.TimelinePoint;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StoreCompaction} through {@link StoreWatch}, as the service wires it: a real H2 file behind a Hikari pool,
 * written by a writer thread through {@link IncidentStore} and pruned while the watch reads and compacts it; the
 * writer's statements wait while the file is rewritten, and none fails.
 */
class StoreCompactionTests {

	private static final Instant T0 = Instant.parse("2026-01-05T09:00:00Z");

	@TempDir
	Path dir;

	@Test
	void theFileStaysWithinTwiceItsLiveDataUnderWritesAndPruning() throws Exception {
		Path file = this.dir.resolve("store.mv.db");
		try (HikariDataSource dataSource = new HikariDataSource()) {
			dataSource.setJdbcUrl("jdbc:h2:file:" + this.dir.resolve("store"));
			dataSource.setUsername("sa");
			// as the service readies its pool: suspension allowed, a page cache from the heap
			new StorePoolSettings(Runtime.getRuntime().maxMemory()).postProcessAfterInitialization(dataSource,
					"dataSource");
			Flyway.configure().dataSource(dataSource).locations("classpath:db/migration/h2").load().migrate();
			IncidentStore store = new IncidentStore(JdbcClient.create(dataSource));
			StoreReader reader = new StoreReader(StoreLocation.of(dataSource.getJdbcUrl()), dataSource,
					Duration.ofSeconds(5), Clock.systemUTC());
			StoreWatch watch = new StoreWatch(reader, new ThreadPoolTaskScheduler(),
					new StoreCompaction(reader, dataSource));
			MeterRegistry registry = new SimpleMeterRegistry();
			watch.bindTo(registry);

			AtomicBoolean writing = new AtomicBoolean(true);
			AtomicInteger written = new AtomicInteger();
			String graph = "{\"nodes\":[" + "{\"pid\":4242,\"mode\":\"RowExclusiveLock\"},".repeat(400) + "{}]}";
			CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
				while (writing.get()) {
					writeIncident(store, written.incrementAndGet(), graph);
					// the recorder writes once a poll; this is still many times its pace
					sleep(2);
				}
			});
			List<Long> sizes = new ArrayList<>();
			try {
				for (int round = 0; round < 6; round++) {
					int target = written.get() + 150;
					while (written.get() < target && !writer.isDone()) {
						Thread.sleep(20);
					}
					store.prune(null, 100);
					watch.refresh();
					StoreFigures after = watch.figures();
					assertThat(after.unreadable()).isEmpty();
					// every check leaves the file within twice its live data (or within 1 MiB of it)
					assertThat(StoreCompaction.sparse(after.sizeBytes(), after.liveBytes()))
						.as("round %d: file %s, live %s", round, after.sizeBytes(), after.liveBytes())
						.isFalse();
					sizes.add(size(file));
				}
			}
			finally {
				writing.set(false);
				writer.get(1, TimeUnit.MINUTES);
			}
			watch.refresh();
			StoreFigures figures = watch.figures();
			assertThat(StoreCompaction.sparse(figures.sizeBytes(), figures.liveBytes())).as("file %s, live %s", figures.sizeBytes(), figures.liveBytes())
				.isFalse();
			// well over 900 incidents went through a store that keeps 100: without compaction the file is 10x this
			assertThat(written.get()).isGreaterThan(900);
			assertThat(registry.get("pglockwatch.store.compactions").tag("outcome", "compacted").counter().count())
				.isGreaterThan(0);
			assertThat(registry.get("pglockwatch.store.compactions").tag("outcome", "failed").counter().count())
				.isZero();
			assertThat(registry.get("pglockwatch.store.compaction.duration").timer().count()).isGreaterThan(0);
			// bounded: 900 incidents through a store of 100 leave no file larger than a few rounds' worth (H2's own
			// figure of live data lags behind pruning, so the rounds are not compared one with another)
			assertThat(sizes).allSatisfy((size) -> assertThat(size).isLessThan(32L * 1024 * 1024));
			JdbcClient.create(dataSource).sql("SHUTDOWN").update();
		}
	}

	@Test
	void aSmallOrUnreadableStoreIsLeftAlone() {
		assertThat(StoreCompaction.sparse(900_000, 100_000)).isFalse();
		assertThat(StoreCompaction.sparse(3_000_000, 1_000_000)).isTrue();
		assertThat(StoreCompaction.sparse(3_000_000, 1_600_000)).isFalse();
		assertThat(StoreCompaction.sparse(3_000_000, Double.NaN)).isFalse();
		assertThat(StoreCompaction.sparse(Double.NaN, 1_000_000)).isFalse();
	}

	private static void writeIncident(IncidentStore store, int n, String graph) {
		String id = "inc-" + n;
		Instant opened = T0.plusSeconds(60L * n);
		for (int poll = 0; poll < 6; poll++) {
			Instant at = opened.plusSeconds(poll);
			IncidentState state = (poll == 5) ? IncidentState.RESOLVED : IncidentState.OPEN;
			store.save(new Incident(id, "prod|blocking-chain|" + n, "prod", IncidentKind.BLOCKING_CHAIN,
					Severity.WARNING, state, opened, null, (state == IncidentState.RESOLVED) ? at : null, at, null, null,
					poll, poll, Duration.ofSeconds(poll), "shop"));
			store.appendTimeline(id, new TimelinePoint(at, poll, Duration.ofSeconds(poll)));
			if (poll == 2 || poll == 4) {
				store.savePeakGraph(id, graph);
			}
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static long size(Path file) throws IOException {
		return Files.size(file);
	}

}
