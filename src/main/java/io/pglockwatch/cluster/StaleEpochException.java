package io.pglockwatch.cluster;

import org.springframework.dao.DataIntegrityViolationException;

/**
 * A write for a shard was refused because its writer's epoch is no longer the shard's: another replica took the lease
 * since (or the writer never held it). Retrying the same write can never succeed, which is why this is a
 * {@link DataIntegrityViolationException} (non-transient, like a broken constraint, so that callers that retry store
 * errors skip it) and not a transient store failure. The transaction it was thrown in must be rolled back.
 */
public final class StaleEpochException extends DataIntegrityViolationException {

	private final int shard;

	private final long writerEpoch;

	private final Long storedEpoch;

	StaleEpochException(int shard, long writerEpoch, Long storedEpoch) {
		super("write for shard " + shard + " with epoch " + writerEpoch + " refused: " + reason(writerEpoch, storedEpoch));
		this.shard = shard;
		this.writerEpoch = writerEpoch;
		this.storedEpoch = storedEpoch;
	}

	private static String reason(long writerEpoch, Long storedEpoch) {
		if (storedEpoch == null) {
			return "the shard has no lease";
		}
		if (storedEpoch > writerEpoch) {
			return "the lease was taken since, at epoch " + storedEpoch;
		}
		return "the shard's lease is at epoch " + storedEpoch + ", not the writer's";
	}

	public int shard() {
		return this.shard;
	}

	public long writerEpoch() {
		return this.writerEpoch;
	}

	/** The shard's epoch in the store; null when it has no lease row. */
	public Long storedEpoch() {
		return this.storedEpoch;
	}

}
