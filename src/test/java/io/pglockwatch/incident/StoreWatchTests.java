package io.pglockwatch.incident;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import javax.sql.DataSource;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pglockwatch.testsupport.StoreDatabase;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StoreWatch}, its reader and the {@code store} health component on real stores: an H2 file in a temporary
 * directory, an in-memory H2 and PostgreSQL, each migrated by Flyway and holding some rows.
 */
@ExtendWith(OutputCaptureExtension.class)
class StoreWatchTests {

	@TempDir
	Path dir;

	@Test
	void anH2FileHasItsSizeLiveDataAndVolume() {
		String url = "jdbc:h2:file:" + this.dir.resolve("store") + ";DB_CLOSE_DELAY=-1";
		DataSource dataSource = migrated(url, "sa", "");
		JdbcClient jdbc = JdbcClient.create(dataSource);
		fill(jdbc, true);
		try {
			StoreWatch watch = watch(url, dataSource);
			watch.refresh();
			StoreFigures figures = watch.figures();

			assertThat(watch.location().file()).isEqualTo(this.dir.resolve("store.mv.db").toAbsolutePath());
			assertThat(figures.unreadable()).isEmpty();
			assertThat(figures.sizeBytes()).isEqualTo((double) fileSize(this.dir.resolve("store.mv.db")));
			assertThat(figures.sizeBytes()).isGreaterThan(0);
			assertThat(figures.liveBytes()).isGreaterThan(0).isLessThanOrEqualTo(figures.sizeBytes());
			assertThat(figures.volumeFreeBytes()).isGreaterThan(0);
			assertThat(figures.volumeTotalBytes()).isGreaterThanOrEqualTo(figures.volumeFreeBytes());

			MeterRegistry registry = new SimpleMeterRegistry();
			watch.bindTo(registry);
			assertThat(registry.get("pglockwatch.store.size").gauge().value()).isEqualTo(figures.sizeBytes());
			assertThat(registry.get("pglockwatch.store.live").gauge().value()).isEqualTo(figures.liveBytes());
			assertThat(registry.get("pglockwatch.store.volume.free").gauge().getId().getBaseUnit()).isEqualTo("bytes");

			Health health = new StoreHealthIndicator(watch, new StoreWriter(1, Clock.systemUTC())).health();
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsEntry("type", "h2-file")
				.containsEntry("file", this.dir.resolve("store.mv.db").toAbsolutePath().toString())
				.containsEntry("sizeBytes", (long) figures.sizeBytes())
				.containsEntry("liveBytes", (long) figures.liveBytes())
				.containsEntry("volumeFreeBytes", (long) figures.volumeFreeBytes())
				.containsKeys("volumeTotalBytes", "readAt")
				.doesNotContainKey("unreadable");
		}
		finally {
			jdbc.sql("SHUTDOWN").update();
		}
	}

	@Test
	void anInMemoryH2HasNoFiguresAndIsStillUp() {
		String url = "jdbc:h2:mem:store_watch;DB_CLOSE_DELAY=-1";
		DataSource dataSource = migrated(url, "sa", "");
		StoreWatch watch = watch(url, dataSource);
		MeterRegistry registry = new SimpleMeterRegistry();
		watch.bindTo(registry);
		assertThat(registry.get("pglockwatch.store.size").gauge().value()).as("before the first read").isNaN();

		watch.refresh();

		for (String name : new String[] { "size", "live", "volume.free", "volume.total" }) {
			assertThat(registry.get("pglockwatch.store." + name).gauge().value()).as(name).isNaN();
		}
		Health health = new StoreHealthIndicator(watch, new StoreWriter(1, Clock.systemUTC())).health();
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).containsEntry("type", "h2-memory")
			.doesNotContainKeys("file", "sizeBytes", "liveBytes", "volumeFreeBytes", "unreadable");
	}

	@Test
	void postgresHasTheDatabaseSizeAndItsTables() {
		StoreDatabase postgres = StoreDatabase.POSTGRESQL;
		postgres.recreateSchema("store_watch_it");
		DataSource dataSource = postgres.newDataSource("store_watch_it");
		fill(JdbcClient.create(dataSource), false);
		StoreWatch watch = watch(postgres.url("store_watch_it"), dataSource);

		watch.refresh();

		StoreFigures figures = watch.figures();
		assertThat(watch.location().type()).isEqualTo("postgresql");
		assertThat(figures.unreadable()).isEmpty();
		assertThat(figures.sizeBytes()).isGreaterThan(0);
		// the store's tables, their indexes and Flyway's history (not the filler): far less than the database
		assertThat(figures.liveBytes()).isGreaterThan(0).isLessThan(figures.sizeBytes());
		assertThat(figures.volumeFreeBytes()).isNaN();
		assertThat(figures.volumeTotalBytes()).isNaN();
		assertThat(new StoreHealthIndicator(watch, new StoreWriter(1, Clock.systemUTC())).health().getDetails()).containsEntry("type", "postgresql")
			.containsKeys("sizeBytes", "liveBytes")
			.doesNotContainKeys("file", "volumeFreeBytes");
	}

	@Test
	void anUnreadableStoreIsNaNAndUnknownAndLoggedOncePerChange(CapturedOutput output) {
		// a file that is not there, behind a data source that cannot connect
		String url = "jdbc:h2:file:" + this.dir.resolve("gone/store") + ";IFEXISTS=TRUE";
		StoreWatch watch = watch(url, new DriverManagerDataSource(url, "sa", ""));

		watch.refresh();
		watch.refresh();

		StoreFigures figures = watch.figures();
		assertThat(figures.sizeBytes()).isNaN();
		assertThat(figures.liveBytes()).isNaN();
		assertThat(figures.unreadable()).containsOnlyKeys("size", "live");
		assertThat(figures.volumeFreeBytes()).as("the directory's volume still counts").isGreaterThan(0);
		Health health = new StoreHealthIndicator(watch, new StoreWriter(1, Clock.systemUTC())).health();
		assertThat(health.getStatus()).isEqualTo(Status.UNKNOWN);
		assertThat(health.getDetails()).containsEntry("type", "h2-file")
			.containsEntry("unreadable", List.of("live", "size"))
			.doesNotContainKey("sizeBytes");
		assertThat(output.getOut().split("Cannot read the incident store's", -1)).hasSize(2);

		// the file appears: readable again, said once
		DataSource dataSource = migrated("jdbc:h2:file:" + this.dir.resolve("gone/store"), "sa", "");
		JdbcClient.create(dataSource).sql("CHECKPOINT").update();
		watch.refresh();
		assertThat(watch.figures().unreadable()).isEmpty();
		assertThat(output.getOut()).contains("readable again");
		JdbcClient.create(dataSource).sql("SHUTDOWN").update();
	}

	@Test
	void startReadsAtOnce() throws Exception {
		String url = "jdbc:h2:mem:store_watch_start;DB_CLOSE_DELAY=-1";
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.initialize();
		try {
			StoreWatch watch = new StoreWatch(
					new StoreReader(StoreLocation.of(url), migrated(url, "sa", ""), Duration.ofSeconds(5), Clock.systemUTC()),
					scheduler);
			watch.start();
			long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
			while (watch.figures() == null && System.nanoTime() < deadline) {
				Thread.sleep(10);
			}
			assertThat(watch.figures()).isNotNull();
			assertThat(watch.isRunning()).isTrue();
			watch.stop();
			assertThat(watch.isRunning()).isFalse();
		}
		finally {
			scheduler.shutdown();
		}
	}

	private static StoreWatch watch(String url, DataSource dataSource) {
		return new StoreWatch(new StoreReader(StoreLocation.of(url), dataSource, Duration.ofSeconds(5), Clock.systemUTC()),
				new ThreadPoolTaskScheduler());
	}

	private static DataSource migrated(String url, String user, String password) {
		String vendor = url.startsWith("jdbc:h2:") ? "h2" : "postgresql";
		Flyway.configure().dataSource(url, user, password).locations("classpath:db/migration/" + vendor).load().migrate();
		return new DriverManagerDataSource(url, user, password);
	}

	/** Some rows (half of them deleted again), then a checkpoint on H2 so the file and the MVStore's figures have them. */
	private static void fill(JdbcClient jdbc, boolean h2) {
		jdbc.sql("CREATE TABLE filler (id INT PRIMARY KEY, body VARCHAR(2000))").update();
		jdbc.sql(h2 ? "INSERT INTO filler SELECT X, REPEAT('x', 1000) FROM SYSTEM_RANGE(1, 2000)"
				: "INSERT INTO filler SELECT i, repeat('x', 1000) FROM generate_series(1, 2000) i").update();
		jdbc.sql("DELETE FROM filler WHERE MOD(id, 2) = 0").update();
		if (h2) {
			jdbc.sql("CHECKPOINT").update();
		}
	}

	private static long fileSize(Path file) {
		try {
			return Files.size(file);
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
