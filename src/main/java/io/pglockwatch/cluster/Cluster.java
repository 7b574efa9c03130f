package io.pglockwatch.cluster;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.sql.DataSource;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionException;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.Assert;

/**
 * What the rest of the service asks of the cluster: which shard a target is in, whether this replica leads it now
 * (and with which {@link Fence}), and a store transaction that is refused once the fence is stale. The recorder, the
 * alert outbox and the guard act for a target only while {@link #fence(String)} gives a fence, and write only through
 * {@link #write(Fence, Runnable)}.
 */
public final class Cluster implements MeterBinder {

	private final Leadership leadership;

	private final ClusterLease lease;

	private final ClusterProperties properties;

	private final TransactionTemplate transactions;

	/** Fenced writes refused because another epoch holds their shard. */
	private final AtomicLong refused = new AtomicLong();

	public Cluster(Leadership leadership, ClusterLease lease, ClusterProperties properties, DataSource dataSource) {
		Assert.notNull(leadership, "Leadership must not be null");
		Assert.notNull(lease, "ClusterLease must not be null");
		Assert.notNull(properties, "ClusterProperties must not be null");
		this.leadership = leadership;
		this.lease = lease;
		this.properties = properties;
		this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
	}

	/** This replica's {@code instance-name}. */
	public String instanceName() {
		return this.properties.instanceName();
	}

	/** {@code pglockwatch.cluster.shards}. */
	public int shards() {
		return this.properties.shards();
	}

	/** The shard of a target ({@link Shards#of(String, int)}). */
	public int shardOf(String target) {
		return Shards.of(target, this.properties.shards());
	}

	/**
	 * Whether this replica polls the target: it leads the target's shard, or led it until the store stopped answering
	 * ({@link Leadership#watches(int)}).
	 */
	public boolean watches(String target) {
		return this.leadership.watches(shardOf(target));
	}

	/** Whether this replica has run an election round since it started ({@link Leadership#settled()}). */
	public boolean settled() {
		return this.leadership.settled();
	}

	/** The fence to act for the target's shard with, or null when this replica does not lead that shard now. */
	public Fence fence(String target) {
		return fence(shardOf(target));
	}

	/** The fence to act for the shard with, or null when this replica does not lead it now. */
	public Fence fence(int shard) {
		OptionalLong epoch = this.leadership.epoch(shard);
		return epoch.isPresent() ? new Fence(shard, epoch.getAsLong()) : null;
	}

	/**
	 * Whether this replica still leads the fence's shard with the fence's epoch: checked right before an action that
	 * leaves the store (a page, a signal). It reads the local clock only; a pause after it is what the store's fence
	 * catches.
	 */
	public boolean holds(Fence fence) {
		OptionalLong epoch = this.leadership.epoch(fence.shard());
		return epoch.isPresent() && epoch.getAsLong() == fence.epoch();
	}

	/**
	 * Runs {@code writes} in one store transaction that first checks the fence ({@link ClusterLease#fence(int, long)}):
	 * they commit only if no other epoch took the shard meanwhile.
	 * @throws org.springframework.dao.DataAccessException when the store fails, also to begin or commit the
	 * transaction
	 * @throws StaleEpochException (a {@link org.springframework.dao.DataIntegrityViolationException}) when the fence
	 * is stale: nothing was written
	 */
	public void write(Fence fence, Runnable writes) {
		write(fence, () -> {
			writes.run();
			return null;
		});
	}

	/** Like {@link #write(Fence, Runnable)}, with the result of the writes. */
	public <T> T write(Fence fence, Supplier<T> writes) {
		Assert.notNull(fence, "Fence must not be null");
		try {
			return this.transactions.execute((status) -> {
				this.lease.fence(fence.shard(), fence.epoch());
				return writes.get();
			});
		}
		catch (StaleEpochException ex) {
			this.refused.incrementAndGet();
			this.leadership.superseded(fence.shard(), fence.epoch());
			throw ex;
		}
		catch (TransactionException ex) {
			// no connection to begin with, or the commit failed: a store failure like any other, to be retried
			throw new DataAccessResourceFailureException("store transaction failed: " + ex.getMessage(), ex);
		}
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		FunctionCounter.builder("pglockwatch.cluster.fenced.writes", this.refused, AtomicLong::get)
			.description("Store writes, outbox claims and guard claims refused because another replica took the lease "
					+ "of their shard after they were decided (a leader that paused or lost the store)")
			.register(registry);
	}

	/** Whether the store can be shared by other replicas (PostgreSQL), so that claims in it matter. */
	public boolean sharedStore() {
		return this.lease.sharedStore();
	}

	/** Who leads each shard ({@link Leadership#snapshot()}). */
	public Map<Integer, ShardState> shardStates() {
		return this.leadership.snapshot();
	}

	/** The live members as last read ({@link Leadership#members()}). */
	public List<Member> members() {
		return this.leadership.members();
	}

	/** Why this replica cannot lead now (the store does not answer), or null. */
	public String problem() {
		return this.leadership.problem();
	}

}
