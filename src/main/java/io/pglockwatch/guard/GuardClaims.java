package io.pglockwatch.guard;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.pglockwatch.cluster.Cluster;
import io.pglockwatch.cluster.Fence;
import io.pglockwatch.cluster.StaleEpochException;
import io.pglockwatch.detect.SessionFacts;
import io.pglockwatch.incident.StoreTime;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The guard's decisions about sessions, claimed in the store (table {@code guard_claim}) before they are carried out:
 * the first claim of a target, pid, backend start and action wins, in a transaction fenced with the claimer's
 * leadership, so that a failover between a decision and its signal never signals a session twice, and an incident
 * records one decision. Claims older than a day are deleted by later claims: by then the session is long gone (the
 * guard's own memory of cancelled sessions is a day too).
 */
final class GuardClaims {

	/** How long a claim is kept. */
	static final Duration KEEP = Duration.ofDays(1);

	/** The outcome of a claim. */
	enum Claim {

		/** This replica's to carry out. */
		CLAIMED,

		/** Already claimed, by this replica earlier or by another leader: not to be carried out again. */
		TAKEN,

		/** Another replica leads the target's shard now. */
		NOT_LEADER,

		/** The store did not answer: nobody knows whether another replica claimed it. */
		UNKNOWN

	}

	private final JdbcClient jdbc;

	private final Cluster cluster;

	private final Clock clock;

	GuardClaims(JdbcClient jdbc, Cluster cluster, Clock clock) {
		this.jdbc = jdbc;
		this.cluster = cluster;
		this.clock = clock;
	}

	/**
	 * Claims {@code action} about the session for the leader of {@code fence}.
	 * @param action what is decided, e.g. {@code cancel-ddl}, or {@code cancel-ddl/dry-run}
	 */
	Claim claim(Fence fence, String target, SessionFacts session, String action) {
		Instant now = this.clock.instant();
		try {
			this.cluster.write(fence, () -> {
				this.jdbc.sql("DELETE FROM guard_claim WHERE claimed_at < :before")
					.param("before", StoreTime.bind(now.minus(KEEP)))
					.update();
				this.jdbc.sql("""
						INSERT INTO guard_claim (target, pid, backend_start, action, epoch, claimed_by, claimed_at)
						VALUES (:target, :pid, :start, :action, :epoch, :by, :at)
						""")
					.param("target", target)
					.param("pid", session.pid())
					.param("start", StoreTime.bind((session.backendStart() != null) ? session.backendStart() : Instant.EPOCH))
					.param("action", action)
					.param("epoch", fence.epoch())
					.param("by", this.cluster.instanceName())
					.param("at", StoreTime.bind(now))
					.update();
			});
			return Claim.CLAIMED;
		}
		catch (StaleEpochException ex) {
			return Claim.NOT_LEADER;
		}
		catch (DuplicateKeyException ex) {
			return Claim.TAKEN;
		}
		catch (DataAccessException ex) {
			return Claim.UNKNOWN;
		}
	}

}
