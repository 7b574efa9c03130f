package io.pglockwatch.incident;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link StoreLocation}: which file an H2 URL names, the way H2 reads it. */
class StoreLocationTests {

	@Test
	void theDefaultStoreIsAFileUnderTheWorkingDirectory() {
		StoreLocation location = StoreLocation.of("jdbc:h2:file:./data/pglockwatch");
		assertThat(location.type()).isEqualTo("h2-file");
		assertThat(location.file()).isEqualTo(Path.of("data/pglockwatch.mv.db").toAbsolutePath());
	}

	@Test
	void settingsAfterThePathAreNotPartOfTheFile() {
		StoreLocation location = StoreLocation.of("jdbc:h2:file:/app/data/pglockwatch;DB_CLOSE_ON_EXIT=FALSE");
		assertThat(location.file()).isEqualTo(Path.of("/app/data/pglockwatch.mv.db"));
	}

	@Test
	void aPathWithoutPrefixIsAFileAndTildeIsHome() {
		assertThat(StoreLocation.of("jdbc:h2:~/lockwatch").file())
			.isEqualTo(Path.of(System.getProperty("user.home"), "lockwatch.mv.db"));
		assertThat(StoreLocation.of("jdbc:h2:/srv/lockwatch").file()).isEqualTo(Path.of("/srv/lockwatch.mv.db"));
	}

	@Test
	void memoryPostgresAndServersHaveNoFile() {
		assertThat(StoreLocation.of("jdbc:h2:mem:testdb;DB_CLOSE_DELAY=-1")).isEqualTo(new StoreLocation("h2-memory", null));
		assertThat(StoreLocation.of("jdbc:postgresql://db:5432/lockwatch")).isEqualTo(new StoreLocation("postgresql", null));
		assertThat(StoreLocation.of("jdbc:h2:tcp://localhost/~/lockwatch")).isEqualTo(new StoreLocation("other", null));
		assertThat(StoreLocation.of(null)).isEqualTo(new StoreLocation("other", null));
	}

}
