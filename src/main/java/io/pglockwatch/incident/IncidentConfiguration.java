package io.pglockwatch.incident;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.poll.TargetsProperties;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The incident store (Spring JDBC over {@code spring.datasource}, schema by Flyway), its recorder, and the watch on
 * its size.
 */
@Configuration(proxyBeanMethods = false)
class IncidentConfiguration {

	private static final String STORE_SCHEDULER = "storeWatchScheduler";

	/** Short: the store is the service's own database, and a read that hangs longer than this is a finding itself. */
	private static final Duration STORE_QUERY_TIMEOUT = Duration.ofSeconds(5);

	@Bean
	IncidentStore incidentStore(JdbcClient jdbc) {
		return new IncidentStore(jdbc);
	}

	/** Stopped by the recorder, after its last events are written. */
	@Bean(destroyMethod = "")
	StoreWriter storeWriter(Clock clock) {
		return new StoreWriter(StoreWriter.DEFAULT_LIMIT, clock);
	}

	@Bean
	IncidentRecorder incidentRecorder(IncidentStore store, StoreWriter writes, TargetsProperties targets,
			DetectionProperties detection, IncidentProperties retention, JsonMapper json,
			ObjectProvider<IncidentListener> listeners, Clock clock, Cluster cluster) {
		return new IncidentRecorder(store, writes, targets, detection, retention, json, listeners, clock, cluster);
	}

	/**
	 * The store watch's own thread. Not a default candidate: as a plain TaskScheduler (and Executor) bean it would
	 * make Boot back off from its application task executor and scheduler, and serve other features' tasks.
	 */
	@Bean(name = STORE_SCHEDULER, defaultCandidate = false)
	ThreadPoolTaskScheduler storeWatchScheduler() {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
		scheduler.setPoolSize(1);
		scheduler.setThreadNamePrefix("pglockwatch-store-watch-");
		scheduler.setDaemon(true);
		return scheduler;
	}

	@Bean
	StoreWatch storeWatch(DataSource dataSource, Environment environment, Clock clock,
			@Qualifier(STORE_SCHEDULER) ThreadPoolTaskScheduler scheduler) {
		StoreLocation location = StoreLocation.of(storeUrl(dataSource, environment));
		StoreReader reader = new StoreReader(location, dataSource, STORE_QUERY_TIMEOUT, clock);
		// PostgreSQL reuses its free space itself (autovacuum); only an H2 file needs compacting while it runs, and
		// only Hikari (Boot's default pool, readied by StorePoolSettings) can hold callers meanwhile
		StoreCompaction compaction = (StoreLocation.H2_FILE.equals(location.type())
				&& dataSource instanceof HikariDataSource pool && pool.isAllowPoolSuspension())
						? new StoreCompaction(reader, pool) : null;
		return new StoreWatch(reader, scheduler, compaction);
	}

	/** Readies the pool of an H2 file store: suspension for compaction, a page cache from the heap. */
	@Bean
	static StorePoolSettings storePoolSettings() {
		return new StorePoolSettings(Runtime.getRuntime().maxMemory());
	}

	/** Named so the health component is {@code store}. */
	@Bean
	StoreHealthIndicator storeHealthIndicator(StoreWatch watch, StoreWriter writes) {
		return new StoreHealthIndicator(watch, writes);
	}

	/**
	 * The configured URL, so the H2 file is known even when the store cannot be opened (a full disk); the data
	 * source's own only when none is configured (Boot's generated in-memory database).
	 */
	private static String storeUrl(DataSource dataSource, Environment environment) {
		String url = environment.getProperty("spring.datasource.url");
		if (url != null && !url.isBlank()) {
			return url;
		}
		try (Connection connection = dataSource.getConnection()) {
			return connection.getMetaData().getURL();
		}
		catch (SQLException | RuntimeException ex) {
			return null;
		}
	}

}
