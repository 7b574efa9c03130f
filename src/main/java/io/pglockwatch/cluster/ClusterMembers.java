package io.pglockwatch.cluster;

import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.util.Assert;

/**
 * This replica's row in the store's table {@code cluster_member}, and the live rows of all replicas: who shares the
 * store, for spreading the shards over them. Every time is the store's own {@code CURRENT_TIMESTAMP}, as for the
 * leases. A member is live while its {@code last_seen_at} plus this replica's {@code pglockwatch.cluster.lease} is
 * after the store's now; rows older than {@link #FORGET_AFTER_LEASES} leases are deleted.
 *
 * <p>Thread-safe; each statement runs on its own.
 */
public final class ClusterMembers {

	/** Rows of replicas not seen for this many leases are deleted: long enough to read in the table, then gone. */
	static final int FORGET_AFTER_LEASES = 10;

	private static final String INTERVAL_MS = "CAST(:%s AS BIGINT) * INTERVAL '0.001' SECOND";

	private static final String SEEN = "UPDATE cluster_member SET last_seen_at = CURRENT_TIMESTAMP WHERE name = :name";

	// the first heartbeat of a run: a row left by an earlier run of the same name starts again
	private static final String REJOIN = """
			UPDATE cluster_member SET started_at = CURRENT_TIMESTAMP, last_seen_at = CURRENT_TIMESTAMP
			WHERE name = :name
			""";

	private static final String JOIN = """
			INSERT INTO cluster_member (name, started_at, last_seen_at)
			SELECT :name, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
			WHERE NOT EXISTS (SELECT 1 FROM cluster_member WHERE name = :name)
			""";

	private static final String FORGET = "DELETE FROM cluster_member WHERE last_seen_at + "
			+ INTERVAL_MS.formatted("forget_ms") + " < CURRENT_TIMESTAMP";

	private static final String LEAVE = "DELETE FROM cluster_member WHERE name = :name";

	// live members, each with the shards whose lease it holds now by the store's clock
	private static final String LIVE = """
			SELECT m.name, m.started_at, m.last_seen_at, l.shard
			FROM cluster_member m
			LEFT JOIN cluster_lease l
				ON l.holder = m.name AND l.expires_at > CURRENT_TIMESTAMP AND l.shard < :shards
			WHERE m.last_seen_at + %s > CURRENT_TIMESTAMP
			ORDER BY m.name, l.shard
			""".formatted(INTERVAL_MS.formatted("lease_ms"));

	private final JdbcClient jdbc;

	private final ClusterProperties properties;

	/** Whether this run has written its row yet. */
	private volatile boolean joined;

	/** The members of the store of {@code dataSource}; the schema must be migrated already. */
	public ClusterMembers(DataSource dataSource, ClusterProperties properties) {
		Assert.notNull(dataSource, "DataSource must not be null");
		Assert.notNull(properties, "ClusterProperties must not be null");
		this.jdbc = JdbcClient.create(dataSource);
		this.properties = properties;
	}

	/**
	 * Writes this replica's row with the store's now (the first call of a run also sets {@code started_at}), and
	 * deletes the rows of replicas not seen for {@value #FORGET_AFTER_LEASES} leases.
	 * @throws org.springframework.dao.DataAccessException when the store cannot be reached
	 */
	public void heartbeat() {
		String name = this.properties.instanceName();
		int written = this.jdbc.sql(this.joined ? SEEN : REJOIN).param("name", name, Types.VARCHAR).update();
		if (written == 0) {
			try {
				this.jdbc.sql(JOIN).param("name", name, Types.VARCHAR).update();
			}
			catch (DataIntegrityViolationException ex) {
				// a process with the same name wrote the row in between: it is seen either way
			}
		}
		this.joined = true;
		this.jdbc.sql(FORGET)
			.param("forget_ms", this.properties.lease().multipliedBy(FORGET_AFTER_LEASES).toMillis(), Types.BIGINT)
			.update();
	}

	/**
	 * The live members by name, each with the shards (below {@code pglockwatch.cluster.shards}) whose lease it holds
	 * and that has not lapsed.
	 * @throws org.springframework.dao.DataAccessException when the store cannot be reached
	 */
	public List<Member> live() {
		Map<String, Member> members = new LinkedHashMap<>();
		Map<String, List<Integer>> shards = new LinkedHashMap<>();
		this.jdbc.sql(LIVE)
			.param("shards", this.properties.shards(), Types.INTEGER)
			.param("lease_ms", this.properties.lease().toMillis(), Types.BIGINT)
			.query((rs) -> {
				String name = rs.getString("name");
				List<Integer> led = shards.computeIfAbsent(name, (n) -> new ArrayList<>());
				if (!members.containsKey(name)) {
					members.put(name, new Member(name, rs.getObject("started_at", OffsetDateTime.class).toInstant(),
							rs.getObject("last_seen_at", OffsetDateTime.class).toInstant(), List.of()));
				}
				int shard = rs.getInt("shard");
				if (!rs.wasNull()) {
					led.add(shard);
				}
			});
		return members.values()
			.stream()
			.map((m) -> new Member(m.name(), m.startedAt(), m.lastSeenAt(), shards.get(m.name())))
			.toList();
	}

	/** Deletes this replica's row, so that the others stop counting it at once. */
	public void leave() {
		this.jdbc.sql(LEAVE).param("name", this.properties.instanceName(), Types.VARCHAR).update();
		this.joined = false;
	}

}
