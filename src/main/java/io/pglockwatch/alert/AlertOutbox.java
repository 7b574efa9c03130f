package io.pglockwatch.alert;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.pglockwatch.alert.OutboxEntry.State;
import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.cluster.StaleEpochException;
import io.pglockwatch.incident.StoreTime;
import io.pglockwatch.incident.StoreWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.core.simple.JdbcClient.StatementSpec;

/**
 * The alert outbox, in the incident store, and the events that wait in memory to be stored in it. An event is added
 * in memory and its insert queued on the {@link StoreWriter}, so adding never waits for the store; while the store
 * takes writes, an event is stored before any attempt to send it, so a crash or restart loses nothing, and the
 * sender works through the store in order per incident and channel. While the store refuses writes, the sender
 * sends the events waiting in memory instead ({@link #nextHeld}), and each is stored later with what became of it, so
 * an event a channel accepted is never sent again. Events in memory are bounded ({@link #MAX_HELD}): past that the
 * oldest one already sent is forgotten, else the oldest, and each loss is counted ({@link #heldDropped(AlertChannel)}).
 *
 * <p>Events in memory have negative ids, events in the store positive ones; {@code mark*} take either.
 *
 * <p>Only the leader of an incident's shard adds and sends its events. An event in memory carries the {@link Fence}
 * it was recorded under: it is stored in a transaction fenced with it, and sent from memory only while this replica
 * still leads with that fence; once another replica leads the shard, the events of it still in memory are dropped
 * (the new leader continues from the store). A stored event is claimed by the leader before each attempt
 * ({@link #claim}), and every mark of its outcome is fenced with the claim's epoch, so an old leader cannot record an
 * attempt after the new one started.
 */
public final class AlertOutbox {

	/** How many events may wait in memory for the store. */
	static final int MAX_HELD = 1_000;

	private static final Logger logger = LoggerFactory.getLogger(AlertOutbox.class);

	private static final String COLUMNS = """
			id, incident_id, channel, action, dedup_key, payload, state, attempts, created_at, next_attempt_at,
			sent_at, last_status, last_error, event_id, target, claim_epoch
			""";

	private final JdbcClient jdbc;

	private final StoreWriter writes;

	private final Cluster cluster;

	// in creation order; guarded by itself
	private final List<Held> held = new ArrayList<>();

	private final AtomicLong heldIds = new AtomicLong();

	private final Map<AlertChannel, AtomicLong> heldDropped = new EnumMap<>(AlertChannel.class);

	// "incident|channel" of the events pending in the store, as of the sender's latest read
	private volatile Set<String> pendingInStore = Set.of();

	private volatile Runnable afterStore = () -> {
	};

	public AlertOutbox(JdbcClient jdbc, StoreWriter writes, Cluster cluster) {
		this.jdbc = jdbc;
		this.writes = writes;
		this.cluster = cluster;
		for (AlertChannel channel : AlertChannel.values()) {
			this.heldDropped.put(channel, new AtomicLong());
		}
	}

	/** Runs {@code action} (the sender's wake-up) after events were stored, so they go out without waiting a tick. */
	void afterStore(Runnable action) {
		this.afterStore = action;
	}

	/**
	 * The stable id of an event: a name-based UUID of what the event is (incident, channel, action, dedup key), so
	 * every replica and every attempt gives an event the same id, and no two events of one incident share one.
	 */
	static String eventId(String incidentId, AlertAction action, String dedupKey) {
		String name = incidentId + "|" + action.channel().label() + "|" + action.label() + "|" + dedupKey;
		return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
	}

	/**
	 * Adds an event to send: in memory at once, in the store as soon as it takes the write.
	 * @param fence the leadership of the incident's target's shard the event was recorded under
	 */
	public void add(String incidentId, String target, AlertAction action, String dedupKey, String payload,
			Instant now, Fence fence) {
		Held event = new Held(-this.heldIds.incrementAndGet(), incidentId, target, action, dedupKey, payload, now,
				fence);
		synchronized (this.held) {
			if (this.held.size() >= MAX_HELD) {
				dropOne();
			}
			this.held.add(event);
		}
		storeLater(event);
	}

	/**
	 * Queues the store write of the events of {@code event}'s incident and channel. Keyed by those: one such write
	 * waits at most, in the place of the first (after the incident's own first write), however often its events
	 * change while the store refuses writes.
	 */
	private void storeLater(Held event) {
		String stream = event.stream();
		this.writes.submit("alert events " + stream, "alert-events:" + stream, false, () -> storeHeld(stream));
	}

	// under the lock of held
	private void dropOne() {
		Held victim = null;
		for (Held event : this.held) {
			if (event.phase == Phase.WAITING && (victim == null || event.state != State.PENDING)) {
				victim = event;
				if (event.state != State.PENDING) {
					break; // an event already sent or refused loses only its record
				}
			}
		}
		if (victim == null) {
			return;
		}
		this.held.remove(victim);
		this.heldDropped.get(victim.channel).incrementAndGet();
		logger.error("{} alert events wait in memory for the store, the limit: forgot {} {} of incident {} ({})",
				MAX_HELD, victim.channel.label(), victim.action.label(), victim.incidentId,
				(victim.state == State.PENDING) ? "never sent" : "already " + victim.state.label());
	}

	/**
	 * Stores the events of one incident and channel that wait in memory, each with what became of it, in order; on
	 * the store writer's thread. From an event being sent right now on, they wait for the next call (queued when the
	 * send is marked). When the incident is not in the store (it was dropped from the writes waiting in memory), they
	 * stay in memory until {@link #MAX_HELD} pushes them out.
	 * @throws DataAccessException when the store refuses the writes: the events stay in memory
	 */
	void storeHeld(String stream) {
		List<Held> batch = new ArrayList<>();
		synchronized (this.held) {
			for (Held event : this.held) {
				if (!event.stream().equals(stream)) {
					continue;
				}
				if (event.phase == Phase.SENDING) {
					break;
				}
				if (event.phase == Phase.WAITING) {
					event.phase = Phase.STORING;
					batch.add(event);
				}
			}
		}
		boolean stored = false;
		for (int i = 0; i < batch.size(); i++) {
			Held event = batch.get(i);
			try {
				this.cluster.write(event.fence, () -> insert(event));
				settle(event, true);
				stored = true;
			}
			catch (StaleEpochException ex) {
				// another replica leads the shard now and sends from the store: these are not this replica's to send
				for (int j = i; j < batch.size(); j++) {
					settle(batch.get(j), true);
				}
				logger.warn("Alert events of {} dropped from memory: {}", stream, ex.getMessage());
				break;
			}
			catch (RuntimeException ex) {
				for (int j = i; j < batch.size(); j++) {
					settle(batch.get(j), false);
				}
				if (ex instanceof DataIntegrityViolationException) {
					logger.warn("Alert events of {} stay in memory: their incident is not in the store", stream);
					break;
				}
				throw ex;
			}
		}
		if (stored) {
			this.afterStore.run();
		}
	}

	private void settle(Held event, boolean stored) {
		synchronized (this.held) {
			if (stored) {
				this.held.remove(event);
			}
			else {
				event.phase = Phase.WAITING;
			}
		}
	}

	private void insert(Held event) {
		this.jdbc.sql("""
				INSERT INTO alert_outbox (incident_id, channel, action, dedup_key, payload, state, attempts, created_at,
				    next_attempt_at, sent_at, last_status, last_error, event_id, target, claim_epoch)
				VALUES (:incident, :channel, :action, :key, :payload, :state, :attempts, :created, :next, :sent,
				    :status, :error, :event_id, :target, :claim_epoch)
				""")
			.param("event_id", event.eventId)
			.param("target", event.target)
			.param("claim_epoch", (event.attempts > 0) ? event.fence.epoch() : null, Types.BIGINT)
			.param("incident", event.incidentId)
			.param("channel", event.channel.label())
			.param("action", event.action.label())
			.param("key", event.dedupKey)
			.param("payload", event.payload)
			.param("state", event.state.label())
			.param("attempts", event.attempts)
			.param("created", StoreTime.bind(event.createdAt))
			.param("next", StoreTime.bind(event.nextAttemptAt))
			.param("sent", (event.sentAt != null) ? StoreTime.bind(event.sentAt) : null, Types.TIMESTAMP_WITH_TIMEZONE)
			.param("status", event.lastStatus, Types.INTEGER)
			.param("error", event.lastError, Types.VARCHAR)
			.update();
	}

	/**
	 * The next event of a channel to send from memory, marked as being sent, or null: the oldest pending one created
	 * before {@code createdBefore} and due at {@code now} that is the oldest unfinished event of its incident and
	 * channel, in memory and (as of the sender's latest read) in the store. The caller must mark it.
	 */
	OutboxEntry nextHeld(AlertChannel channel, Instant now, Instant createdBefore) {
		synchronized (this.held) {
			Set<String> blocked = new HashSet<>(this.pendingInStore);
			for (Held event : this.held) {
				if (event.channel != channel || event.state != State.PENDING || !this.cluster.holds(event.fence)) {
					continue;
				}
				if (blocked.add(event.stream()) && event.phase == Phase.WAITING && !event.nextAttemptAt.isAfter(now)
						&& event.createdAt.isBefore(createdBefore)) {
					event.phase = Phase.SENDING;
					return event.entry();
				}
			}
			return null;
		}
	}

	/** Remembers which incidents have events pending in the store, per channel, as the sender last read them. */
	void pendingInStore(Set<String> incidentChannels) {
		this.pendingInStore = Set.copyOf(incidentChannels);
	}

	/** Events waiting in memory for the store. */
	int heldCount() {
		synchronized (this.held) {
			return this.held.size();
		}
	}

	/** Per channel: events in memory not yet accepted, and since when the oldest has waited. */
	Map<AlertChannel, Backlog> heldBacklog() {
		Map<AlertChannel, Backlog> result = new EnumMap<>(AlertChannel.class);
		synchronized (this.held) {
			for (Held event : this.held) {
				if (event.state == State.PENDING) {
					result.merge(event.channel, new Backlog(1, event.createdAt), Backlog::plus);
				}
			}
		}
		return result;
	}

	/** Events forgotten since start because {@link #MAX_HELD} waited in memory. */
	long heldDropped(AlertChannel channel) {
		return this.heldDropped.get(channel).get();
	}

	/** For an event in memory: changes it, lets it be stored and queues that; false for an event in the store. */
	private boolean markHeld(long id, Consumer<Held> change) {
		if (id >= 0) {
			return false;
		}
		Held marked = null;
		synchronized (this.held) {
			for (Held event : this.held) {
				if (event.id == id) {
					change.accept(event);
					event.attempts++;
					event.phase = Phase.WAITING;
					marked = event;
					break;
				}
			}
		}
		if (marked != null) {
			storeLater(marked);
		}
		return true;
	}

	/**
	 * Pending events of a channel due now, oldest first, each the oldest pending one of its incident: a later
	 * event (a resolve) never overtakes an earlier one (its trigger) that is still being retried.
	 */
	public List<OutboxEntry> due(AlertChannel channel, Instant now, int limit) {
		return due(channel, now, limit, null, true);
	}

	/**
	 * Like {@link #due(AlertChannel, Instant, int)}, of the given targets only (null: of every target), and of events
	 * stored without a target when {@code orphans}: a replica reads the events of the shards it leads, so the events
	 * of other shards never fill its batch.
	 */
	public List<OutboxEntry> due(AlertChannel channel, Instant now, int limit, Collection<String> targets,
			boolean orphans) {
		if (targets != null && targets.isEmpty() && !orphans) {
			return List.of();
		}
		String ofTargets = (targets == null) ? ""
				: "AND (" + (targets.isEmpty() ? "1 = 0" : "o.target IN (:targets)")
						+ (orphans ? " OR o.target IS NULL" : "") + ")";
		StatementSpec query = this.jdbc.sql("SELECT " + COLUMNS + """
				FROM alert_outbox o
				WHERE o.channel = :channel AND o.state = :pending AND o.next_attempt_at <= :now %s
				  AND NOT EXISTS (SELECT 1 FROM alert_outbox e
				                  WHERE e.incident_id = o.incident_id AND e.channel = o.channel
				                    AND e.state = :pending AND e.id < o.id)
				ORDER BY o.id
				LIMIT :limit
				""".formatted(ofTargets));
		if (targets != null && !targets.isEmpty()) {
			query = query.param("targets", targets);
		}
		return query.param("channel", channel.label())
			.param("pending", State.PENDING.label())
			.param("now", StoreTime.bind(now))
			.param("limit", limit)
			.query(AlertOutbox::entry)
			.list();
	}

	/**
	 * Claims a stored event for an attempt by the leader of its shard: records the leader's epoch on it, in a
	 * transaction fenced with it. An event in memory is its recorder's already.
	 * @return false when the event is no longer pending (another attempt finished it)
	 * @throws StaleEpochException when another replica leads the shard now
	 */
	public boolean claim(long id, Fence fence) {
		if (id < 0) {
			return true;
		}
		return this.cluster.write(fence, () -> this.jdbc.sql("""
				UPDATE alert_outbox SET claim_epoch = :epoch WHERE id = :id AND state = :pending
				""")
			.param("epoch", fence.epoch())
			.param("id", id)
			.param("pending", State.PENDING.label())
			.update() > 0);
	}

	/**
	 * Marks an event accepted; for a stored one, fenced with the epoch it was claimed with.
	 * @throws StaleEpochException when another replica leads the event's shard now: not marked
	 */
	public void markSent(long id, int status, Instant now, Fence fence) {
		if (markHeld(id, (event) -> {
			event.state = State.SENT;
			event.sentAt = now;
			event.lastStatus = status;
			event.lastError = null;
		})) {
			return;
		}
		this.cluster.write(fence, () -> this.jdbc.sql("""
				UPDATE alert_outbox SET state = :sent, attempts = attempts + 1, sent_at = :now, last_status = :status,
				    last_error = NULL
				WHERE id = :id
				""")
			.param("id", id)
			.param("sent", State.SENT.label())
			.param("status", status)
			.param("now", StoreTime.bind(now))
			.update());
	}

	/** Marks an attempt to be retried at {@code nextAttempt}; fenced like {@link #markSent}. */
	public void markRetry(long id, Integer status, String error, Instant nextAttempt, Fence fence) {
		if (markHeld(id, (event) -> {
			event.nextAttemptAt = nextAttempt;
			event.lastStatus = status;
			event.lastError = truncate(error);
		})) {
			return;
		}
		this.cluster.write(fence, () -> this.jdbc.sql("""
				UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = :next, last_status = :status,
				    last_error = :error
				WHERE id = :id
				""")
			.param("id", id)
			.param("status", status)
			.param("error", truncate(error))
			.param("next", StoreTime.bind(nextAttempt))
			.update());
	}

	/** Marks an event refused for good; fenced like {@link #markSent}. */
	public void markFailed(long id, Integer status, String error, Fence fence) {
		if (markHeld(id, (event) -> {
			event.state = State.FAILED;
			event.lastStatus = status;
			event.lastError = truncate(error);
		})) {
			return;
		}
		this.cluster.write(fence, () -> this.jdbc.sql("""
				UPDATE alert_outbox SET state = :failed, attempts = attempts + 1, last_status = :status,
				    last_error = :error
				WHERE id = :id
				""")
			.param("id", id)
			.param("failed", State.FAILED.label())
			.param("status", status)
			.param("error", truncate(error))
			.update());
	}

	public List<OutboxEntry> forIncident(String incidentId) {
		return this.jdbc.sql("SELECT " + COLUMNS + " FROM alert_outbox WHERE incident_id = :id ORDER BY id")
			.param("id", incidentId)
			.query(AlertOutbox::entry)
			.list();
	}

	/** Events in a state, newest first. */
	public List<OutboxEntry> inState(State state, int limit) {
		return this.jdbc.sql("SELECT " + COLUMNS + " FROM alert_outbox WHERE state = :state ORDER BY id DESC LIMIT :limit")
			.param("state", state.label())
			.param("limit", limit)
			.query(AlertOutbox::entry)
			.list();
	}

	/**
	 * Per channel: how many events in the store wait to be accepted, and since when the oldest has. The same read
	 * remembers which incidents have such events, per channel, for {@link #nextHeld}.
	 */
	public Map<AlertChannel, Backlog> backlog() {
		Map<AlertChannel, Backlog> result = new EnumMap<>(AlertChannel.class);
		Set<String> streams = new HashSet<>();
		this.jdbc.sql("""
				SELECT incident_id, channel, count(*) AS pending, min(created_at) AS oldest
				FROM alert_outbox WHERE state = :pending GROUP BY incident_id, channel
				""").param("pending", State.PENDING.label()).query((rs) -> {
			streams.add(rs.getString("incident_id") + "|" + rs.getString("channel"));
			result.merge(AlertChannel.of(rs.getString("channel")),
					new Backlog(rs.getLong("pending"), StoreTime.read(rs, "oldest")), Backlog::plus);
		});
		pendingInStore(streams);
		return result;
	}

	/** @param oldest when the oldest pending event was stored; null when none is pending */
	public record Backlog(long pending, Instant oldest) {

		Backlog plus(Backlog other) {
			Instant first = (this.oldest == null) ? other.oldest
					: (other.oldest == null || this.oldest.isBefore(other.oldest)) ? this.oldest : other.oldest;
			return new Backlog(this.pending + other.pending, first);
		}

	}

	/**
	 * Per channel that has events: how many are in each state, and the refusals since the channel last accepted
	 * one. A few queries over the whole table, cheap at the sizes incident retention keeps it to.
	 */
	public Map<AlertChannel, Tally> tally() {
		Map<AlertChannel, Map<State, Count>> counts = new EnumMap<>(AlertChannel.class);
		this.jdbc.sql("SELECT channel, state, count(*) AS events, max(id) AS newest FROM alert_outbox GROUP BY channel, state")
			.query((rs) -> {
				counts.computeIfAbsent(AlertChannel.of(rs.getString("channel")), (c) -> new EnumMap<>(State.class))
					.put(State.of(rs.getString("state")), new Count(rs.getLong("events"), rs.getLong("newest")));
			});
		Map<AlertChannel, Tally> result = new EnumMap<>(AlertChannel.class);
		counts.forEach((channel, states) -> {
			Count pending = states.getOrDefault(State.PENDING, Count.NONE);
			Count sent = states.getOrDefault(State.SENT, Count.NONE);
			Count failed = states.getOrDefault(State.FAILED, Count.NONE);
			if (failed.events() == 0) {
				result.put(channel, new Tally(pending.events(), sent.events(), 0, 0, null));
				return;
			}
			OutboxEntry lastFailed = this.jdbc.sql("SELECT " + COLUMNS + " FROM alert_outbox WHERE id = :id")
				.param("id", failed.newest())
				.query(AlertOutbox::entry)
				.optional()
				.orElse(null);
			long failedSinceLastSent = (failed.newest() < sent.newest()) ? 0 : this.jdbc.sql("""
					SELECT count(*) FROM alert_outbox WHERE channel = :channel AND state = :failed AND id > :sent
					""")
				.param("channel", channel.label())
				.param("failed", State.FAILED.label())
				.param("sent", sent.newest())
				.query(Long.class)
				.single();
			result.put(channel, new Tally(pending.events(), sent.events(), failed.events(), failedSinceLastSent,
					lastFailed));
		});
		return result;
	}

	private record Count(long events, long newest) {

		static final Count NONE = new Count(0, 0);

	}

	/**
	 * The events of one channel by state.
	 *
	 * @param failedSinceLastSent events refused for good after the newest one the channel accepted (all refused
	 * ones if it never accepted any): more than 0 means the channel refuses what it is sent now
	 * @param lastFailed the newest refused event; null when none was refused
	 */
	public record Tally(long pending, long sent, long failed, long failedSinceLastSent, OutboxEntry lastFailed) {

		/** A channel with no events at all. */
		public static final Tally NONE = new Tally(0, 0, 0, 0, null);

	}

	/** An event added but not yet stored; mutable, guarded by the lock of {@code held}. */
	private static final class Held {

		final long id;

		final String incidentId;

		final String target;

		final String eventId;

		final Fence fence;

		final AlertChannel channel;

		final AlertAction action;

		final String dedupKey;

		final String payload;

		final Instant createdAt;

		State state = State.PENDING;

		Phase phase = Phase.WAITING;

		int attempts;

		Instant nextAttemptAt;

		Instant sentAt;

		Integer lastStatus;

		String lastError;

		Held(long id, String incidentId, String target, AlertAction action, String dedupKey, String payload,
				Instant now, Fence fence) {
			this.id = id;
			this.incidentId = incidentId;
			this.target = target;
			this.eventId = eventId(incidentId, action, dedupKey);
			this.fence = fence;
			this.channel = action.channel();
			this.action = action;
			this.dedupKey = dedupKey;
			this.payload = payload;
			this.createdAt = now;
			this.nextAttemptAt = now;
		}

		String stream() {
			return this.incidentId + "|" + this.channel.label();
		}

		OutboxEntry entry() {
			return new OutboxEntry(this.id, this.incidentId, this.channel, this.action, this.dedupKey, this.payload,
					this.state, this.attempts, this.createdAt, this.nextAttemptAt, this.sentAt, this.lastStatus,
					this.lastError, this.eventId, this.target, this.fence.epoch());
		}

	}

	/** Where an event in memory is: waiting, being sent (not to be stored meanwhile), being stored (not to be sent). */
	private enum Phase {

		WAITING, SENDING, STORING

	}

	private static OutboxEntry entry(ResultSet rs, int row) throws SQLException {
		int status = rs.getInt("last_status");
		Integer lastStatus = rs.wasNull() ? null : status;
		return new OutboxEntry(rs.getLong("id"), rs.getString("incident_id"), AlertChannel.of(rs.getString("channel")),
				AlertAction.of(rs.getString("action")), rs.getString("dedup_key"), rs.getString("payload"),
				State.of(rs.getString("state")), rs.getInt("attempts"), StoreTime.read(rs, "created_at"),
				StoreTime.read(rs, "next_attempt_at"), StoreTime.read(rs, "sent_at"), lastStatus, rs.getString("last_error"),
				rs.getString("event_id"), rs.getString("target"), rs.getObject("claim_epoch", Long.class));
	}

	private static String truncate(String error) {
		return (error == null || error.length() <= 2000) ? error : error.substring(0, 1997) + "...";
	}

}
