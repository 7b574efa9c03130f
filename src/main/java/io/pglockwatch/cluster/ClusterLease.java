package io.pglockwatch.cluster;

import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.support.JdbcUtils;
import org.springframework.jdbc.support.MetaDataAccessException;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.Assert;

/**
 * This replica's side of the per-shard leader leases in the store (table {@code cluster_lease}): take or renew a
 * shard's lease, hand it over, read it, and fence a write with the epoch it was taken at.
 *
 * <p>Every time is the store's own clock ({@code CURRENT_TIMESTAMP} in the SQL); no instant of this JVM goes into a
 * statement, so a replica whose clock is wrong cannot steal a lease or keep one too long. A lease lapses at
 * {@code expires_at}, which its holder sets to the store's now plus its {@code pglockwatch.cluster.lease} at each
 * renewal.
 *
 * <p>The epoch is the fencing token. It grows by one each time the lease is <em>taken</em> rather than renewed: by
 * another replica once it lapsed or was released, or by this replica when it does not know the epoch it held (after
 * {@link #release(int)} or a restart). A holder that still knows its epoch renews even a lapsed lease that nobody took
 * in between, keeping its epoch: nobody else wrote for the shard meanwhile, so its queued writes are still good.
 * A second process that runs with the same {@code instance-name} does not know the epoch and so waits for the lease
 * to lapse like any other replica.
 *
 * <p>Thread-safe. The lease statements run in a short transaction of their own; {@link #fence(int, long)} runs in the
 * caller's.
 */
public final class ClusterLease {

	private static final String LEASE_COLUMNS = "shard, holder, epoch, acquired_at, expires_at, offered_to";

	private static final String EXPIRES = "CURRENT_TIMESTAMP + CAST(:lease_ms AS BIGINT) * INTERVAL '0.001' SECOND";

	// renews when this replica still holds the epoch it took (keeping an offer it made); takes (epoch + 1, no offer) a
	// lease that has lapsed or that its holder offered to this replica. The SET expressions all read the row as it was
	// before the update
	private static final String RENEW_OR_TAKE = """
			UPDATE cluster_lease SET
				epoch = CASE WHEN holder = :holder AND epoch = :held_epoch THEN epoch ELSE epoch + 1 END,
				acquired_at = CASE WHEN holder = :holder AND epoch = :held_epoch THEN acquired_at
					ELSE CURRENT_TIMESTAMP END,
				offered_to = CASE WHEN holder = :holder AND epoch = :held_epoch THEN offered_to ELSE NULL END,
				holder = :holder,
				renewed_at = CURRENT_TIMESTAMP,
				expires_at = %s
			WHERE shard = :shard
				AND ((holder = :holder AND epoch = :held_epoch) OR expires_at <= CURRENT_TIMESTAMP
					OR offered_to = :holder)
			""".formatted(EXPIRES);

	private static final String OFFER = """
			UPDATE cluster_lease SET offered_to = :offered_to
			WHERE shard = :shard AND holder = :holder AND epoch = :held_epoch
			""";

	private static final String WITHDRAW_OFFERS = """
			UPDATE cluster_lease SET offered_to = NULL WHERE holder = :holder AND offered_to IS NOT NULL
			""";

	// a shard that never had a lease; two replicas racing here collide on the primary key, and one of them fails
	private static final String TAKE_FIRST = """
			INSERT INTO cluster_lease (shard, holder, epoch, acquired_at, renewed_at, expires_at)
			SELECT :shard, :holder, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, %s
			WHERE NOT EXISTS (SELECT 1 FROM cluster_lease WHERE shard = :shard)
			""".formatted(EXPIRES);

	private static final String SELECT_LEASE = "SELECT " + LEASE_COLUMNS + " FROM cluster_lease WHERE shard = :shard";

	private static final String SELECT_LEASES = "SELECT " + LEASE_COLUMNS + " FROM cluster_lease ORDER BY shard";

	private static final String RELEASE = """
			UPDATE cluster_lease SET expires_at = CURRENT_TIMESTAMP
			WHERE shard = :shard AND holder = :holder AND epoch = :held_epoch
			""";

	// FOR SHARE: fenced writers of one shard do not wait for each other, but a take (an UPDATE of the row) waits for
	// each of them to end, and each of them for a take in progress. H2 knows only FOR UPDATE
	private static final String FENCE_SHARED = "SELECT epoch FROM cluster_lease WHERE shard = :shard FOR SHARE";

	private static final String FENCE_EXCLUSIVE = "SELECT epoch FROM cluster_lease WHERE shard = :shard FOR UPDATE";

	private final DataSource dataSource;

	private final JdbcClient jdbc;

	private final TransactionTemplate ownTransaction;

	private final ClusterProperties properties;

	/** The epoch of each shard whose lease this replica holds, as last taken or renewed. */
	private final Map<Integer, Long> heldEpochs = new ConcurrentHashMap<>();

	/** Whether the store is PostgreSQL, found on first use: the store may be down at startup. */
	private volatile Boolean shared;

	/** Leases on the store of {@code dataSource}; the schema must be migrated already. */
	public ClusterLease(DataSource dataSource, ClusterProperties properties) {
		Assert.notNull(dataSource, "DataSource must not be null");
		Assert.notNull(properties, "ClusterProperties must not be null");
		this.dataSource = dataSource;
		this.jdbc = JdbcClient.create(dataSource);
		this.ownTransaction = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		this.ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		this.properties = properties;
	}

	/** This replica's {@code instance-name}: the holder of the leases it takes. */
	public String instanceName() {
		return this.properties.instanceName();
	}

	/**
	 * Renews the shard's lease if this replica holds it, or takes it (epoch + 1; epoch 1 for a shard that never had a
	 * lease) if it is free or has lapsed by the store's clock.
	 * @return the lease this replica now holds, or empty when another replica holds it
	 * @throws org.springframework.dao.DataAccessException when the store cannot be reached: the outcome is unknown,
	 * and the caller must act as if it had lost the lease once its last renewal is older than the lease
	 */
	public Optional<Lease> tryAcquireOrRenew(int shard) {
		checkShard(shard);
		MapSqlParameterSource params = params(shard);
		params.addValue("lease_ms", this.properties.lease().toMillis(), Types.BIGINT);
		Optional<Lease> lease;
		try {
			lease = this.ownTransaction.execute((status) -> {
				int changed = this.jdbc.sql(RENEW_OR_TAKE).paramSource(params).update();
				if (changed == 0) {
					changed = this.jdbc.sql(TAKE_FIRST).paramSource(params).update();
				}
				return (changed == 0) ? Optional.<Lease>empty() : read(shard);
			});
		}
		catch (DataIntegrityViolationException ex) {
			// another replica took the shard's first lease between our check and our insert
			lease = Optional.empty();
		}
		if (lease.isPresent()) {
			this.heldEpochs.put(shard, lease.get().epoch());
		}
		else {
			this.heldEpochs.remove(shard);
		}
		return lease;
	}

	/**
	 * Hands the shard over: the lease lapses now by the store's clock and keeps its epoch, so any replica (this one
	 * included) may take it at once, with the next epoch. Writes fenced with the old epoch are refused from then on.
	 * @return whether this replica held the lease; false changes nothing
	 */
	public boolean release(int shard) {
		checkShard(shard);
		MapSqlParameterSource params = params(shard);
		this.heldEpochs.remove(shard);
		if (params.getValue("held_epoch") == null) {
			return false;
		}
		return this.ownTransaction.execute((status) -> this.jdbc.sql(RELEASE).paramSource(params).update()) > 0;
	}

	/**
	 * Offers the shard to another member: this replica keeps leading it (and renewing it) until that member takes the
	 * lease, with the next epoch, at its next round; the renewal that follows tells this replica it lost the shard. So
	 * a shard handed over is never without a leader. An offer to a member that never takes it changes nothing.
	 * @return whether this replica held the lease with the epoch it knows; false changes nothing
	 */
	public boolean offer(int shard, String member) {
		checkShard(shard);
		Assert.hasText(member, "member must not be empty");
		MapSqlParameterSource params = params(shard);
		if (params.getValue("held_epoch") == null) {
			return false;
		}
		params.addValue("offered_to", member, Types.VARCHAR);
		return this.ownTransaction.execute((status) -> this.jdbc.sql(OFFER).paramSource(params).update()) > 0;
	}

	/** Withdraws every offer this replica made of the shards it holds (the member it offered them to left). */
	public void withdrawOffers() {
		this.ownTransaction.execute((status) -> this.jdbc.sql(WITHDRAW_OFFERS)
			.param("holder", this.properties.instanceName(), Types.VARCHAR)
			.update());
	}

	/** The shard's lease as stored, lapsed or not; empty when the shard never had one. */
	public Optional<Lease> current(int shard) {
		checkShard(shard);
		return read(shard);
	}

	/**
	 * Every shard's lease as stored, lapsed or not, in shard order: who leads, or led last, what. Rows of shards
	 * beyond this replica's {@code pglockwatch.cluster.shards} (left by replicas configured with more) are included.
	 */
	public List<Lease> leases() {
		return this.jdbc.sql(SELECT_LEASES).query(ClusterLease::lease).list();
	}

	/**
	 * Checks, inside the caller's transaction and before its writes for the shard, that {@code epoch} is still the
	 * shard's, and holds a lock on the lease row until that transaction ends.
	 *
	 * <p>What it guarantees: no write fenced with an epoch commits after a take of the lease (a higher epoch) has
	 * committed. If the take commits first, the fence sees the higher epoch and throws; if the fence comes first, the
	 * take waits for the writer's transaction to end, so the writes are ordered before it. It guarantees nothing for
	 * writes made outside that transaction or before the fence, and it does not check that the lease is still within
	 * its time: a holder whose lease lapsed but that nobody has taken over may still write, which is safe, since
	 * nobody else has. Keep fenced transactions short: a take, and its holder's own renewal, wait for them.
	 * On PostgreSQL the row lock is {@code FOR SHARE} (writers do not wait for each other); in a repeatable read or
	 * serializable transaction a concurrent take fails the fence with a serialization failure instead. On H2, a
	 * cluster of one, it is {@code FOR UPDATE}.
	 * @throws StaleEpochException when the stored epoch is not {@code epoch} (a newer one exists) or the shard has no
	 * lease; the caller's transaction must roll back
	 * @throws IllegalStateException when no transaction is active: a fence outside one guards nothing
	 */
	public void fence(int shard, long epoch) {
		checkShard(shard);
		Assert.state(TransactionSynchronizationManager.isActualTransactionActive(),
				"ClusterLease.fence must run inside the transaction of the writes it guards");
		Optional<Long> stored = this.jdbc.sql(fenceSql())
			.param("shard", shard, Types.INTEGER)
			.query((rs, rowNum) -> rs.getLong("epoch"))
			.optional();
		if (stored.isEmpty() || stored.get() != epoch) {
			throw new StaleEpochException(shard, epoch, stored.orElse(null));
		}
	}

	/** The store's clock now, to compare with the instants of a {@link Lease}. */
	public Instant storeNow() {
		return this.jdbc.sql("SELECT CURRENT_TIMESTAMP AS now")
			.query((rs, rowNum) -> rs.getObject("now", OffsetDateTime.class).toInstant())
			.single();
	}

	private Optional<Lease> read(int shard) {
		return this.jdbc.sql(SELECT_LEASE).param("shard", shard, Types.INTEGER).query(ClusterLease::lease).optional();
	}

	private MapSqlParameterSource params(int shard) {
		MapSqlParameterSource params = new MapSqlParameterSource();
		params.addValue("shard", shard, Types.INTEGER);
		params.addValue("holder", this.properties.instanceName(), Types.VARCHAR);
		params.addValue("held_epoch", this.heldEpochs.get(shard), Types.BIGINT);
		return params;
	}

	private void checkShard(int shard) {
		Assert.isTrue(shard >= 0 && shard < this.properties.shards(), () -> "shard " + shard
				+ " is not between 0 and pglockwatch.cluster.shards - 1 (" + (this.properties.shards() - 1) + ")");
	}

	/**
	 * Whether the store is PostgreSQL, which other replicas may share; an H2 file is one process's alone.
	 * @throws DataAccessResourceFailureException when the store cannot be asked, the first time
	 */
	public boolean sharedStore() {
		Boolean shared = this.shared;
		if (shared == null) {
			try {
				String product = JdbcUtils.extractDatabaseMetaData(this.dataSource,
						DatabaseMetaData::getDatabaseProductName);
				shared = "PostgreSQL".equalsIgnoreCase(product);
			}
			catch (MetaDataAccessException ex) {
				throw new DataAccessResourceFailureException("cannot tell which database the store is", ex);
			}
			this.shared = shared;
		}
		return shared;
	}

	private String fenceSql() {
		return sharedStore() ? FENCE_SHARED : FENCE_EXCLUSIVE;
	}

	private static Lease lease(ResultSet rs, int rowNum) throws SQLException {
		return new Lease(rs.getInt("shard"), rs.getString("holder"), rs.getLong("epoch"),
				rs.getObject("acquired_at", OffsetDateTime.class).toInstant(),
				rs.getObject("expires_at", OffsetDateTime.class).toInstant(), rs.getString("offered_to"));
	}

}
