package io.pglockwatch.fleet;

import java.time.Instant;
import java.util.List;

import javax.sql.DataSource;

import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store's {@code target_state} on a real PostgreSQL store: a published state replaces the row of its target only
 * for the same shard at the same or a newer epoch, so a paused old leader never writes over its successor; readers
 * find what was published after a moment, and any target's row by name.
 */
class TargetStateTableTests {

	private static final String DATABASE = "fleet_target_state_it";

	private static TargetStateTable table;

	@BeforeAll
	static void migrate() {
		StoreDatabase.POSTGRESQL.recreateSchema(DATABASE);
		DataSource dataSource = StoreDatabase.POSTGRESQL.newDataSource(DATABASE);
		table = new TargetStateTable(dataSource);
	}

	@Test
	void anOlderEpochNeverWritesOverANewerOneOfTheSameShard() {
		Instant before = Instant.now().minusSeconds(60);
		table.publish("new-leader", List.of(new TargetStateTable.Row("orders", 2, 7, "{\"v\":\"new\"}")));
		table.publish("old-leader", List.of(new TargetStateTable.Row("orders", 2, 6, "{\"v\":\"old\"}")));
		assertThat(table.of(List.of("orders"))).singleElement().satisfies((row) -> {
			assertThat(row.holder()).isEqualTo("new-leader");
			assertThat(row.json()).isEqualTo("{\"v\":\"new\"}");
		});

		table.publish("new-leader", List.of(new TargetStateTable.Row("orders", 2, 7, "{\"v\":\"again\"}")));
		assertThat(table.of(List.of("orders"))).extracting(TargetStateTable.Stored::json)
			.containsExactly("{\"v\":\"again\"}");
		// after pglockwatch.cluster.shards changed, the target's new shard's leader writes whatever its epoch
		table.publish("other", List.of(new TargetStateTable.Row("orders", 1, 1, "{\"v\":\"reshard\"}")));
		assertThat(table.of(List.of("orders"))).extracting(TargetStateTable.Stored::holder).containsExactly("other");
		assertThat(table.since(before)).extracting(TargetStateTable.Stored::name).contains("orders");
		assertThat(table.since(Instant.now().plusSeconds(60))).isEmpty();
		assertThat(table.of(List.of())).isEmpty();
	}

}
