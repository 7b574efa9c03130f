package io.pglockwatch.sql;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

class QueryTextModeTests {

	private static final String QUERY = "UPDATE users SET token = 'abc' WHERE id = 7 /* by admin */";

	@Test
	void fullKeepsTheTextUnchanged() {
		assertThat(QueryTextMode.FULL.apply(QUERY)).isSameAs(QUERY);
	}

	@Test
	void redactedReplacesLiteralsAndComments() {
		assertThat(QueryTextMode.REDACTED.apply(QUERY)).isEqualTo("UPDATE users SET token = ? WHERE id = ? /* ? */");
	}

	@Test
	void redactedMarksTruncatedText() {
		assertThat(QueryTextMode.REDACTED.apply("INSERT INTO t VALUES ('very secret val"))
			.isEqualTo("INSERT INTO t VALUES (?…");
	}

	@Test
	void noneKeepsNoText() {
		assertThat(QueryTextMode.NONE.apply(QUERY)).isNull();
	}

	@ParameterizedTest
	@EnumSource(QueryTextMode.class)
	void nullStaysNullInEveryMode(QueryTextMode mode) {
		assertThat(mode.apply(null)).isNull();
	}

	@ParameterizedTest
	@EnumSource(value = QueryTextMode.class, names = { "FULL", "REDACTED" })
	void emptyStaysEmpty(QueryTextMode mode) {
		assertThat(mode.apply("")).isEmpty();
	}

}
