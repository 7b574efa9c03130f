package io.pglockwatch.gate;

import io.pglockwatch.sql.StatementLockModes;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The gate is built with the service's own statement -> lock-mode table, one copy of it. */
class SharedTableTests {

	@Test
	void theServicesTableClassifiesAnAlterTable() {
		assertThat(StatementLockModes.classify("ALTER TABLE users ADD COLUMN note text")).isNotNull();
	}

}
