package io.pglockwatch.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@link Shards#of(String, int)} is a contract with users, who compute it in a shell: these examples were computed
 * with {@code python3 -c 'import sys, zlib; print(zlib.crc32(sys.argv[1].encode()) % int(sys.argv[2]))' NAME SHARDS},
 * as docs/configuration.md shows, and must never change.
 */
class ShardsTests {

	@Test
	void isTheCrc32OfTheUtf8NameModuloTheShards() {
		// CRC-32 of "orders-db" is 3292986768, more than Integer.MAX_VALUE: taken unsigned
		assertThat(Shards.of("orders-db", 4)).isZero();
		assertThat(Shards.of("orders-db", 1024)).isEqualTo(400);
		assertThat(Shards.of("payments", 4)).isEqualTo(2);
		assertThat(Shards.of("docs", 4)).isEqualTo(3);
		assertThat(Shards.of("billing-eu-1", 16)).isEqualTo(11);
		assertThat(Shards.of("billing-eu-1", 1024)).isEqualTo(299);
		// CRC-32 2484625090: the UTF-8 bytes, not the platform's encoding
		assertThat(Shards.of("\u00fcberwachung", 7)).isEqualTo(3);
	}

	@Test
	void oneShardHoldsEveryTarget() {
		assertThat(Shards.of("orders-db", 1)).isZero();
		assertThat(Shards.of("", 1)).isZero();
	}

	@Test
	void nameIsTakenExactly() {
		assertThat(Shards.of("Orders-DB", 1024)).isNotEqualTo(Shards.of("orders-db", 1024));
	}

	@Test
	void refusesNoShards() {
		assertThatIllegalArgumentException().isThrownBy(() -> Shards.of("orders-db", 0))
			.withMessageContaining("at least 1");
	}

}
