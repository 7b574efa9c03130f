package io.pglockwatch.fleet;

import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;

import javax.sql.DataSource;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The store's table {@code target_state}: the latest state of each target, written by the replica that polls it and
 * read by the others. PostgreSQL only: an H2 store is one replica's alone, and nobody else reads it.
 */
final class TargetStateTable {

	// a row is replaced by the same shard's leader at the same or a newer epoch, or by any leader after the number of
	// shards changed: a paused old leader does not write over its successor
	private static final String UPSERT = """
			INSERT INTO target_state (name, shard, epoch, holder, published_at, state)
			VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, ?)
			ON CONFLICT (name) DO UPDATE SET shard = EXCLUDED.shard, epoch = EXCLUDED.epoch, holder = EXCLUDED.holder,
				published_at = EXCLUDED.published_at, state = EXCLUDED.state
			WHERE target_state.shard <> EXCLUDED.shard OR target_state.epoch <= EXCLUDED.epoch
			""";

	private static final String COLUMNS = "SELECT name, holder, published_at, state FROM target_state";

	private final JdbcTemplate jdbc;

	private final JdbcClient client;

	private final TransactionTemplate transactions;

	TargetStateTable(DataSource dataSource) {
		this.jdbc = new JdbcTemplate(dataSource);
		this.client = JdbcClient.create(dataSource);
		this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
	}

	/** Writes the states in one transaction. */
	void publish(String holder, Collection<Row> rows) {
		List<Object[]> args = rows.stream()
			.map((row) -> new Object[] { row.name(), row.shard(), row.epoch(), holder, row.json() })
			.toList();
		this.transactions.executeWithoutResult((status) -> this.jdbc.batchUpdate(UPSERT, args,
				new int[] { Types.VARCHAR, Types.INTEGER, Types.BIGINT, Types.VARCHAR, Types.VARCHAR }));
	}

	/** The rows published after {@code since} (the store's clock), oldest first. */
	List<Stored> since(Instant since) {
		return this.client.sql(COLUMNS + " WHERE published_at > ? ORDER BY published_at")
			.param(Timestamp.from(since))
			.query(TargetStateTable::stored)
			.list();
	}

	/** The rows of the named targets, whenever they were published. */
	List<Stored> of(Collection<String> names) {
		if (names.isEmpty()) {
			return List.of();
		}
		return this.client.sql(COLUMNS + " WHERE name IN (:names)").param("names", names).query(TargetStateTable::stored).list();
	}

	private static Stored stored(java.sql.ResultSet rs, int row) throws java.sql.SQLException {
		return new Stored(rs.getString("name"), rs.getString("holder"),
				rs.getObject("published_at", OffsetDateTime.class).toInstant(), rs.getString("state"));
	}

	/** A state to publish, with the lease it is published under. */
	record Row(String name, int shard, long epoch, String json) {
	}

	/** A published state: who published it when (the store's clock), and the JSON of {@link StoredTargetState}. */
	record Stored(String name, String holder, Instant publishedAt, String json) {
	}

}
