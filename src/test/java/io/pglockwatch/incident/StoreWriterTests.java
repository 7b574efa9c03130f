package io.pglockwatch.incident;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;

/**
 * The queue of store writes on its own: order, what waits while the store refuses, the memory limit and what it
 * drops, keys that replace, and writes that can never succeed. The store here is a switch; the whole service
 * against a real failing store is {@code StoreFailureIntegrationTests}.
 */
class StoreWriterTests {

	private final AtomicBoolean storeUp = new AtomicBoolean(true);

	private final List<String> stored = new CopyOnWriteArrayList<>();

	private StoreWriter writer = new StoreWriter(5, Clock.systemUTC());

	@AfterEach
	void stop() {
		this.writer.shutdown();
	}

	private Runnable store(String row) {
		return () -> {
			if (!this.storeUp.get()) {
				throw new DataAccessResourceFailureException("store down");
			}
			this.stored.add(row);
		};
	}

	@Test
	void writesInTheOrderSubmitted() {
		for (int i = 0; i < 5; i++) {
			this.writer.submit("row " + i, null, false, store("row " + i));
		}
		this.writer.flush(Duration.ofSeconds(5));
		assertThat(this.stored).containsExactly("row 0", "row 1", "row 2", "row 3", "row 4");
		assertThat(this.writer.failure()).isNull();
	}

	@Test
	void whileTheStoreRefusesWritesWaitAndAreDoneInOrderWhenItIsBack() {
		this.storeUp.set(false);
		this.writer.submit("a", null, false, store("a"));
		await().atMost(Duration.ofSeconds(5)).until(() -> this.writer.failure() != null);
		this.writer.submit("b", null, false, store("b"));
		assertThat(this.writer.waiting()).isEqualTo(2);
		assertThat(this.writer.failure().error()).contains("store down");
		assertThatIllegalStateException().isThrownBy(() -> this.writer.flush(Duration.ofMillis(100)))
			.withMessageContaining("2 store write(s) not done")
			.withMessageContaining("store down");

		this.storeUp.set(true);
		this.writer.flush(Duration.ofSeconds(10));
		assertThat(this.stored).containsExactly("a", "b");
		assertThat(this.writer.failure()).isNull();
		assertThat(this.writer.dropped()).isZero();
	}

	@Test
	void atTheLimitTheOldestDroppableWriteIsDroppedAndCounted() {
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		this.writer.bindTo(meters);
		this.storeUp.set(false);
		this.writer.submit("incident", null, false, store("incident"));
		await().atMost(Duration.ofSeconds(5)).until(() -> this.writer.failure() != null);
		this.writer.submit("point 1", null, true, store("point 1"));
		this.writer.submit("point 2", null, true, store("point 2"));
		this.writer.submit("alert", null, false, store("alert"));
		this.writer.submit("point 3", null, true, store("point 3"));
		// the limit is 5: a sixth drops point 1, a seventh point 2; the incident and the alert stay
		this.writer.submit("resolve", null, false, store("resolve"));
		this.writer.submit("point 4", null, true, store("point 4"));
		assertThat(this.writer.waiting()).isEqualTo(5);
		assertThat(this.writer.dropped()).isEqualTo(2);
		assertThat(meters.get("pglockwatch.store.writes.dropped").counter().count()).isEqualTo(2);
		assertThat(meters.get("pglockwatch.store.writes.waiting").gauge().value()).isEqualTo(5);
		assertThat(meters.get("pglockwatch.store.writes.failing").gauge().value()).isEqualTo(1);

		this.storeUp.set(true);
		this.writer.flush(Duration.ofSeconds(10));
		assertThat(this.stored).containsExactly("incident", "alert", "point 3", "resolve", "point 4");
		assertThat(meters.get("pglockwatch.store.writes.failing").gauge().value()).isZero();
	}

	@Test
	void aKeyedWriteReplacesTheWaitingOneOfItsKeyInItsPlace() {
		this.storeUp.set(false);
		this.writer.submit("incident v1", "incident:1", false, store("incident v1"));
		await().atMost(Duration.ofSeconds(5)).until(() -> this.writer.failure() != null);
		this.writer.submit("point", null, true, store("point"));
		this.writer.submit("incident v2", "incident:1", false, store("incident v2"));
		this.writer.submit("incident v3", "incident:1", false, store("incident v3"));
		assertThat(this.writer.waiting()).isEqualTo(2);

		this.storeUp.set(true);
		this.writer.flush(Duration.ofSeconds(10));
		assertThat(this.stored).containsExactly("incident v3", "point");
	}

	@Test
	void aWriteTheStoreRefusesForGoodIsSkippedAndDoesNotHoldUpTheOthers() {
		this.writer.submit("orphan", null, false, () -> {
			throw new DataIntegrityViolationException("no incident 7");
		});
		this.writer.submit("after", null, false, store("after"));
		this.writer.flush(Duration.ofSeconds(5));
		assertThat(this.stored).containsExactly("after");
		assertThat(this.writer.dropped()).isEqualTo(1);
		assertThat(this.writer.failure()).isNull();
	}

	@Test
	void aBugInAWriteIsSkipped() {
		this.writer.submit("buggy", null, false, () -> {
			throw new IllegalArgumentException("bug");
		});
		this.writer.submit("after", null, false, store("after"));
		this.writer.flush(Duration.ofSeconds(5));
		assertThat(this.stored).containsExactly("after");
	}

}
