package io.pglockwatch.cluster;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.dao.DataAccessException;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.transaction.TransactionException;
import org.springframework.util.Assert;

/**
 * The election: which shards this replica leads. Every {@link ClusterProperties#renewInterval()}, on a thread of its
 * own, it takes or renews the lease of each shard ({@link ClusterLease#tryAcquireOrRenew(int)}) and then reads every
 * lease to learn who leads the rest.
 *
 * <p>Whether this replica still leads is decided here, by the monotonic clock, without asking the store: a shard is
 * led until {@code lease - renewInterval / 2} after the <em>start</em> of its last successful renewal. The store's
 * lease runs from a moment after that start, so this replica stops acting at least half a renew interval before any
 * other replica can take the lease, even when the store cannot be reached or this thread stalls (a long GC pause:
 * {@link #leads(int)} reads the clock, it does not wait for the next round). The margin covers clocks that run at
 * slightly different rates; it does not cover a pause between a {@code leads} check and the write that follows,
 * which is what the fencing epoch is for.
 *
 * <p>Each round starts with a heartbeat in the store's {@code cluster_member} table ({@link ClusterMembers}) and a
 * read of the live members with the shards they lead; the shards spread over them by {@link FairShare}: this replica
 * takes a free shard only when no other member needs it more, and the member leading the most offers one shard per
 * round to a member below its share, which takes it at its next round while the offering member still leads it (so
 * the shard always has a leader). When the members cannot be read, it takes free shards as they come.
 *
 * <p>A failed store call is logged when the store stops answering and when it answers again, not at every round.
 * On stop, every lease this replica holds is released, so that other replicas take its shards at once instead of
 * after a lease. An H2 store is a cluster of one: the same loop takes every shard and keeps it.
 */
public final class Leadership implements SmartLifecycle, MeterBinder {

	private static final Logger logger = LoggerFactory.getLogger(Leadership.class);

	/** How long after a lease lapses by the store's clock the extra round runs: past the lapse, for clocks that drift. */
	private static final Duration EXPIRY_MARGIN = Duration.ofMillis(50);

	private final ClusterLease lease;

	private final ClusterMembers members;

	private final ClusterProperties properties;

	private final ObjectProvider<LeadershipListener> listeners;

	private final LongSupplier nanoTime;

	/** How long after the start of its last successful renewal a shard is still led. */
	private final long leadNanos;

	/** This replica's tenure of each shard; null where it does not lead, or has stopped leading. */
	private final AtomicReferenceArray<Tenure> tenures;

	private final AtomicLongArray changes;

	/** 1 for each shard this replica stopped leading because the store did not answer, while it still does not. */
	private final AtomicIntegerArray watchedWhileStoreFails;

	/** Serializes the rounds with start and stop. */
	private final Object election = new Object();

	/** Every shard's lease as last read, by shard. */
	private volatile Map<Integer, Lease> stored = Map.of();

	/** The live members as last read; null before the first read and while the store does not answer. */
	private volatile List<Member> live;

	private volatile boolean storeFailing;

	/** Why the store failed the last round (no secrets: the driver's message), or null while it answers. */
	private volatile String storeFailure;

	private volatile boolean running;

	/** Whether a round has run since start. */
	private volatile boolean settled;

	private List<LeadershipListener> listenerList = List.of();

	private ThreadPoolTaskScheduler scheduler;

	private ScheduledFuture<?> rounds;

	public Leadership(ClusterLease lease, ClusterMembers members, ClusterProperties properties,
			ObjectProvider<LeadershipListener> listeners) {
		this(lease, members, properties, listeners, System::nanoTime);
	}

	/** With a replaceable monotonic clock. */
	Leadership(ClusterLease lease, ClusterMembers members, ClusterProperties properties,
			ObjectProvider<LeadershipListener> listeners, LongSupplier nanoTime) {
		Assert.notNull(lease, "ClusterLease must not be null");
		Assert.notNull(members, "ClusterMembers must not be null");
		Assert.notNull(properties, "ClusterProperties must not be null");
		Assert.notNull(listeners, "listeners must not be null");
		this.lease = lease;
		this.members = members;
		this.properties = properties;
		this.listeners = listeners;
		this.nanoTime = nanoTime;
		this.leadNanos = leadTime(properties).toNanos();
		this.tenures = new AtomicReferenceArray<>(properties.shards());
		this.changes = new AtomicLongArray(properties.shards());
		this.watchedWhileStoreFails = new AtomicIntegerArray(properties.shards());
	}

	/** How long a shard is led after the start of its last successful renewal: the lease less half a renew interval. */
	static Duration leadTime(ClusterProperties properties) {
		return properties.lease().minus(properties.renewInterval().dividedBy(2));
	}

	/** Whether this replica leads the shard now: it holds the lease and renewed it recently enough. */
	public boolean leads(int shard) {
		return leading(shard) != null;
	}

	/**
	 * Whether this replica polls the shard's targets: while it leads the shard, and after it stopped leading it because
	 * the store does not answer, until the store answers this replica again (when the store is out of reach for every
	 * replica nobody can lead then, and the targets' metrics and live view go on from the replica that led them; when
	 * only this replica lost it, the replica that takes the shard polls it too). It records, alerts and guards nothing
	 * meanwhile.
	 */
	public boolean watches(int shard) {
		// a tenure past its time is still held until the round that drops it: no moment without a poller in between
		return this.tenures.get(shard) != null || this.watchedWhileStoreFails.get(shard) != 0;
	}

	/**
	 * Whether a round has run since start: before it, nothing is known of which shards this replica leads, and its
	 * targets are neither polled nor given up.
	 */
	public boolean settled() {
		return this.settled;
	}

	/** The epoch of the lease this replica leads the shard with; empty when it does not lead it. */
	public OptionalLong epoch(int shard) {
		Tenure tenure = leading(shard);
		return (tenure != null) ? OptionalLong.of(tenure.epoch()) : OptionalLong.empty();
	}

	/**
	 * Who leads each shard, by shard: this replica's own shards as it leads them now, the others as the store showed
	 * them at the last round (a lease of another replica may have lapsed since; its successor shows within a round).
	 * A shard with no known leader is absent.
	 */
	public Map<Integer, ShardState> snapshot() {
		Map<Integer, ShardState> states = new TreeMap<>();
		String self = this.properties.instanceName();
		Map<Integer, Lease> leases = this.stored;
		for (int shard = 0; shard < this.properties.shards(); shard++) {
			Tenure tenure = leading(shard);
			Lease other = leases.get(shard);
			if (tenure != null) {
				states.put(shard, new ShardState(self, tenure.epoch(), tenure.since(), true));
			}
			else if (other != null && !other.holder().equals(self)) {
				states.put(shard, new ShardState(other.holder(), other.epoch(), other.acquiredAt(), false));
			}
		}
		return Collections.unmodifiableMap(states);
	}

	/** Why this replica cannot lead now, or null: the store did not answer its last election round. */
	public String problem() {
		String failure = this.storeFailure;
		if (failure == null || alone()) {
			return null;
		}
		return "the store does not answer, so no lease can be taken or renewed: " + failure;
	}

	/**
	 * The live members of the cluster as the store showed them at this replica's last round, by name, each with the
	 * shards it led then; empty before the first round and while the store does not answer.
	 */
	public List<Member> members() {
		List<Member> members = this.live;
		return (members != null) ? members : List.of();
	}

	@Override
	public void start() {
		synchronized (this.election) {
			if (this.running) {
				return;
			}
			this.listenerList = this.listeners.orderedStream().toList();
			ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskScheduler();
			scheduler.setPoolSize(1);
			scheduler.setThreadNamePrefix("pglockwatch-leadership-");
			scheduler.setDaemon(true);
			scheduler.initialize();
			this.scheduler = scheduler;
			this.running = true;
			this.rounds = scheduler.scheduleAtFixedRate(this::round, this.properties.renewInterval());
			logger.info("Electing a leader for each of {} shard(s) as {}, renewing every {} ms",
					this.properties.shards(), this.properties.instanceName(),
					this.properties.renewInterval().toMillis());
		}
	}

	/** Stops the rounds and releases every lease this replica holds, so that others take its shards at once. */
	@Override
	public void stop() {
		ThreadPoolTaskScheduler stopped;
		synchronized (this.election) {
			if (!this.running) {
				return;
			}
			this.running = false;
			this.rounds.cancel(false);
			for (int shard = 0; shard < this.properties.shards(); shard++) {
				Tenure tenure = this.tenures.get(shard);
				if (tenure != null) {
					lose(shard, tenure, "this replica stops and releases the lease");
				}
				try {
					// also hands over a lease held in the store that this replica had stopped leading by its clock
					this.lease.release(shard);
				}
				catch (DataAccessException | TransactionException ex) {
					logger.warn("Could not release the lease of shard {}: another replica takes it once it lapses: {}",
							shard, ex.getMessage());
				}
			}
			try {
				this.members.leave();
			}
			catch (DataAccessException | TransactionException ex) {
				logger.warn("Could not leave the members: the others count this replica until a lease passes: {}",
						ex.getMessage());
			}
			this.live = null;
			this.settled = false;
			stopped = this.scheduler;
			this.scheduler = null;
		}
		stopped.shutdown();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/** Early to start and late to stop: whatever acts for the shards it leads stops before the leases are released. */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 1024;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("pglockwatch.cluster.members", this, Leadership::liveMembers)
			.description("Live members of the cluster as this replica saw them at its last round; NaN when unknown")
			.strongReference(true)
			.register(registry);
		for (int shard = 0; shard < this.properties.shards(); shard++) {
			int s = shard;
			Gauge.builder("pglockwatch.cluster.leader", this, (leadership) -> leadership.leads(s) ? 1 : 0)
				.tag("shard", Integer.toString(s))
				.description("1 when this replica leads the shard, else 0")
				.strongReference(true)
				.register(registry);
			FunctionCounter.builder("pglockwatch.cluster.leadership.changes", this.changes, (c) -> c.get(s))
				.tag("shard", Integer.toString(s))
				.description("Times this replica started or stopped leading the shard")
				.register(registry);
		}
	}

	/** The election's thread, for tests that stop or stall it. */
	ThreadPoolTaskScheduler scheduler() {
		synchronized (this.election) {
			return this.scheduler;
		}
	}

	/**
	 * One round: be seen and read the live members, renew every shard this replica leads and take the free ones that
	 * are its share, read who holds the rest, then hand one shard over if it leads more than its share.
	 */
	void round() {
		synchronized (this.election) {
			if (!this.running) {
				return;
			}
			FairShare share = readMembers();
			if (share != null) {
				// offers made to this replica since its last round are taken in this one
				readLeases();
			}
			int led = led();
			for (int shard = 0; shard < this.properties.shards(); shard++) {
				if (this.tenures.get(shard) != null || share == null || share.takes(led) || offeredHere(shard)) {
					boolean before = leading(shard) != null;
					renew(shard);
					led += ((leading(shard) != null) ? 1 : 0) - (before ? 1 : 0);
				}
			}
			readLeases();
			if (share != null && share.handsOver(led)) {
				handOver(led, share);
			}
			else if (share != null) {
				withdrawOffers();
				if (share.takes(led)) {
					watchExpiry();
				}
			}
			this.settled = true;
		}
	}

	/**
	 * When the lease of a shard this replica would take lapses before the next round (its leader stopped renewing),
	 * runs an extra round right after it lapses: the shard then changes hands within the lease after its leader's last
	 * renewal, not up to a renew interval later.
	 */
	private void watchExpiry() {
		Duration soonest = null;
		Instant storeNow = null;
		for (Lease other : this.stored.values()) {
			if (other.shard() >= this.properties.shards() || this.tenures.get(other.shard()) != null) {
				continue;
			}
			try {
				storeNow = (storeNow != null) ? storeNow : this.lease.storeNow();
			}
			catch (DataAccessException | TransactionException ex) {
				storeFails(ex);
				return;
			}
			Duration left = Duration.between(storeNow, other.expiresAt());
			// a lease that lapsed a while ago and was not taken in this round waits for the next regular round
			boolean lapsesSoon = left.compareTo(this.properties.renewInterval()) < 0
					&& left.compareTo(EXPIRY_MARGIN.negated()) > 0;
			if (lapsesSoon && (soonest == null || left.compareTo(soonest) < 0)) {
				soonest = left;
			}
		}
		ThreadPoolTaskScheduler scheduler = this.scheduler;
		if (soonest != null && scheduler != null) {
			Duration wait = (soonest.isNegative() ? Duration.ZERO : soonest).plus(EXPIRY_MARGIN);
			scheduler.schedule(this::round, Instant.now().plus(wait));
		}
	}

	private int led() {
		int led = 0;
		for (int shard = 0; shard < this.properties.shards(); shard++) {
			if (leading(shard) != null) {
				led++;
			}
		}
		return led;
	}

	/** Writes this replica's heartbeat and reads the members: the share of each, or null when the store fails. */
	private FairShare readMembers() {
		List<Member> members;
		try {
			this.members.heartbeat();
			members = this.members.live();
			storeAnswers();
		}
		catch (DataAccessException | TransactionException ex) {
			storeFails(ex);
			this.live = null;
			return null;
		}
		List<Member> before = this.live;
		List<String> names = members.stream().map(Member::name).toList();
		if (before == null || !names.equals(before.stream().map(Member::name).toList())) {
			logger.info("{} live member(s) in the cluster: {}", names.size(), names);
		}
		this.live = members;
		Map<String, Integer> others = new HashMap<>();
		for (Member member : members) {
			if (!member.name().equals(this.properties.instanceName())) {
				others.put(member.name(), member.shards().size());
			}
		}
		return new FairShare(this.properties.shards(), this.properties.instanceName(), others);
	}

	/**
	 * Offers the highest shard it leads to the member that needs one most. This replica leads the shard until that
	 * member takes the lease at its next round: the shard is never without a leader. The offer is made again each
	 * round while it is needed (to the same member, or to another one if that member left) and withdrawn when not.
	 */
	private void handOver(int led, FairShare share) {
		String recipient = share.recipient();
		for (int shard = this.properties.shards() - 1; shard >= 0 && recipient != null; shard--) {
			if (leading(shard) == null) {
				continue;
			}
			Lease stored = this.stored.get(shard);
			if (stored != null && recipient.equals(stored.offeredTo())) {
				return;
			}
			try {
				if (this.lease.offer(shard, recipient)) {
					logger.info("Offering shard {} to {}: this replica leads {} shards, {} to {} is its share, and {} "
							+ "has fewer", shard, recipient, led, share.floor(), share.ceiling(), recipient);
				}
			}
			catch (DataAccessException | TransactionException ex) {
				storeFails(ex);
			}
			return;
		}
	}

	/** Withdraws the offers of shards this replica still leads, once no member needs them. */
	private void withdrawOffers() {
		String self = this.properties.instanceName();
		boolean offered = this.stored.values().stream().anyMatch((l) -> self.equals(l.holder()) && l.offeredTo() != null);
		if (!offered) {
			return;
		}
		try {
			this.lease.withdrawOffers();
		}
		catch (DataAccessException | TransactionException ex) {
			storeFails(ex);
		}
	}

	/** Whether the shard's holder offered it to this replica, as the store showed at the last read. */
	private boolean offeredHere(int shard) {
		Lease stored = this.stored.get(shard);
		return stored != null && this.properties.instanceName().equals(stored.offeredTo());
	}

	/**
	 * A fenced write found a newer epoch for the shard than the one this replica leads it with: another replica took
	 * it (a hand-over, or a lease that lapsed while this one paused). This replica stops leading it now instead of at
	 * its next round.
	 */
	void superseded(int shard, long epoch) {
		Tenure tenure = this.tenures.get(shard);
		if (tenure != null && tenure.epoch() == epoch && this.tenures.compareAndSet(shard, tenure, null)) {
			announceLoss(shard, tenure, "a write for it found a newer epoch in the store");
		}
	}

	private double liveMembers() {
		List<Member> members = this.live;
		return (members != null) ? members.size() : Double.NaN;
	}

	private void renew(int shard) {
		long start = this.nanoTime.getAsLong();
		Lease taken;
		try {
			taken = this.lease.tryAcquireOrRenew(shard).orElse(null);
			storeAnswers();
		}
		catch (DataAccessException | TransactionException ex) {
			storeFails(ex);
			Tenure tenure = this.tenures.get(shard);
			if (tenure != null && alone()) {
				// an H2 file is this process's alone: no other replica can take the lease, so it keeps leading (and
				// paging from memory) while its store refuses writes
				this.tenures.set(shard, new Tenure(tenure.epoch(), tenure.since(), start));
				return;
			}
			if (tenure != null && overdue(tenure)) {
				this.watchedWhileStoreFails.set(shard, 1);
				lose(shard, tenure, "the lease could not be renewed for " + sinceRenewal(tenure) + " ms");
			}
			return;
		}
		Tenure tenure = this.tenures.get(shard);
		if (taken == null) {
			if (tenure != null) {
				lose(shard, tenure, "another replica holds the lease");
			}
			return;
		}
		Tenure renewed = new Tenure(taken.epoch(), taken.acquiredAt(), start);
		if (tenure != null && tenure.epoch() == taken.epoch() && !overdue(tenure)) {
			this.tenures.set(shard, renewed);
			return;
		}
		if (tenure != null) {
			// led by this replica's clock no longer (a stall, or a store that did not answer), or a new epoch
			lose(shard, tenure, overdue(tenure) ? "the lease was not renewed for " + sinceRenewal(tenure) + " ms"
					: "the lease was taken again at epoch " + taken.epoch());
		}
		this.tenures.set(shard, renewed);
		this.changes.incrementAndGet(shard);
		logger.info("Leading shard {} with epoch {}", shard, taken.epoch());
		for (LeadershipListener listener : this.listenerList) {
			try {
				listener.onLeadershipGained(shard, taken.epoch());
			}
			catch (RuntimeException ex) {
				logger.warn("A listener failed on gaining shard {}", shard, ex);
			}
		}
	}

	/** Whether the store is one no other replica can share (an H2 file); false while that is not known. */
	private boolean alone() {
		try {
			return !this.lease.sharedStore();
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	private void lose(int shard, Tenure tenure, String reason) {
		this.tenures.set(shard, null);
		announceLoss(shard, tenure, reason);
	}

	private void announceLoss(int shard, Tenure tenure, String reason) {
		this.changes.incrementAndGet(shard);
		logger.info("No longer leading shard {} (epoch {}): {}", shard, tenure.epoch(), reason);
		for (LeadershipListener listener : this.listenerList) {
			try {
				listener.onLeadershipLost(shard, tenure.epoch());
			}
			catch (RuntimeException ex) {
				logger.warn("A listener failed on losing shard {}", shard, ex);
			}
		}
	}

	private void readLeases() {
		try {
			List<Lease> leases = this.lease.leases();
			Map<Integer, Lease> byShard = new TreeMap<>();
			for (Lease each : leases) {
				byShard.put(each.shard(), each);
			}
			this.stored = Collections.unmodifiableMap(byShard);
			storeAnswers();
		}
		catch (DataAccessException | TransactionException ex) {
			storeFails(ex);
		}
	}

	private void storeFails(RuntimeException ex) {
		this.storeFailure = NestedExceptionUtils.getMostSpecificCause(ex).getMessage();
		if (!this.storeFailing) {
			this.storeFailing = true;
			if (alone()) {
				logger.warn("The store does not answer: this replica keeps leading, since no other can share its "
						+ "store (H2): {}", ex.getMessage());
			}
			else {
				logger.warn("The store does not answer: shards led stop being led {} ms after their last renewal: {}",
						this.leadNanos / 1_000_000, ex.getMessage());
			}
		}
	}

	private void storeAnswers() {
		this.storeFailure = null;
		for (int shard = 0; shard < this.watchedWhileStoreFails.length(); shard++) {
			this.watchedWhileStoreFails.set(shard, 0);
		}
		if (this.storeFailing) {
			this.storeFailing = false;
			logger.info("The store answers again: leases are taken and renewed");
		}
	}

	private Tenure leading(int shard) {
		Assert.isTrue(shard >= 0 && shard < this.properties.shards(), () -> "shard " + shard
				+ " is not between 0 and pglockwatch.cluster.shards - 1 (" + (this.properties.shards() - 1) + ")");
		Tenure tenure = this.tenures.get(shard);
		return (tenure != null && !overdue(tenure)) ? tenure : null;
	}

	private boolean overdue(Tenure tenure) {
		return this.nanoTime.getAsLong() - tenure.renewStart() >= this.leadNanos;
	}

	private long sinceRenewal(Tenure tenure) {
		return (this.nanoTime.getAsLong() - tenure.renewStart()) / 1_000_000;
	}

	/**
	 * This replica's lead of a shard.
	 * @param epoch the lease's epoch
	 * @param since when the lease was taken, by the store's clock
	 * @param renewStart the monotonic clock at the start of the last successful renewal
	 */
	private record Tenure(long epoch, Instant since, long renewStart) {
	}

}
