package io.pglockwatch.incident;

import java.nio.file.Path;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StorePoolSettings}: the page cache of an H2 file store from the heap, read back from the running store.
 */
class StorePoolSettingsTests {

	private static final long MIB = 1024 * 1024;

	@TempDir
	Path dir;

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class))
		.withBean(StorePoolSettings.class, () -> new StorePoolSettings(Runtime.getRuntime().maxMemory()));

	@Test
	void aSixtyFourthOfTheHeapBetweenFourAndSixteenMib() {
		assertThat(StorePoolSettings.cacheSizeKb(128 * MIB)).isEqualTo(4 * 1024);
		assertThat(StorePoolSettings.cacheSizeKb(576 * MIB)).isEqualTo(9 * 1024);
		assertThat(StorePoolSettings.cacheSizeKb(8192 * MIB)).isEqualTo(16 * 1024);
	}

	@Test
	void theRunningStoreHasTheCacheSizeComputedFromTheHeap() {
		this.contextRunner.withPropertyValues("spring.datasource.url=jdbc:h2:file:" + this.dir.resolve("store"))
			.run((context) -> {
				DataSource dataSource = context.getBean(DataSource.class);
				assertThat(dataSource).isInstanceOf(HikariDataSource.class);
				try {
					assertThat(cacheSizeKb(dataSource))
						.isEqualTo(StorePoolSettings.cacheSizeKb(Runtime.getRuntime().maxMemory()));
				}
				finally {
					JdbcClient.create(dataSource).sql("SHUTDOWN").update();
				}
			});
	}

	@Test
	void aCacheSizeInTheUrlWins() {
		this.contextRunner
			.withPropertyValues("spring.datasource.url=jdbc:h2:file:" + this.dir.resolve("store") + ";cache_size=2048")
			.run((context) -> {
				DataSource dataSource = context.getBean(DataSource.class);
				try {
					assertThat(cacheSizeKb(dataSource)).isEqualTo(2048);
				}
				finally {
					JdbcClient.create(dataSource).sql("SHUTDOWN").update();
				}
			});
	}

	@Test
	void onlyAnH2FileUrlChanges() {
		long heap = 1024 * MIB;
		assertThat(StorePoolSettings.withCacheSize("jdbc:h2:file:./data/pglockwatch;AUTO_SERVER=TRUE", heap))
			.isEqualTo("jdbc:h2:file:./data/pglockwatch;AUTO_SERVER=TRUE;CACHE_SIZE=16384");
		assertThat(StorePoolSettings.withCacheSize("jdbc:h2:mem:x;DB_CLOSE_DELAY=-1", heap))
			.isEqualTo("jdbc:h2:mem:x;DB_CLOSE_DELAY=-1");
		assertThat(StorePoolSettings.withCacheSize("jdbc:postgresql://db/lockwatch", heap))
			.isEqualTo("jdbc:postgresql://db/lockwatch");
		assertThat(StorePoolSettings.withCacheSize("jdbc:h2:tcp://host/store", heap)).isEqualTo("jdbc:h2:tcp://host/store");
		assertThat(StorePoolSettings.withCacheSize(null, heap)).isNull();
	}

	private static int cacheSizeKb(DataSource dataSource) {
		return Integer.parseInt(JdbcClient.create(dataSource)
			.sql("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'CACHE_SIZE'")
			.query(String.class)
			.single()
			.trim());
	}

}
