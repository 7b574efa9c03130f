package io.pglockwatch.poll;

import java.util.List;

import io.pglockwatch.lock.LockRow;

/**
 * Who on a standby's primary holds the lock that replay holds on the standby: the same relation (physical replicas
 * share database and relation oids), AccessExclusiveLock, granted. Asked on the standby's poll thread, so it answers
 * from what it already knows and never waits for the primary.
 */
@FunctionalInterface
public interface PrimaryHolders {

	/** For a standby whose primary is not a target. */
	PrimaryHolders NONE = (locks, startupPid) -> null;

	/**
	 * @param locks the standby's contended lock rows
	 * @param startupPid the standby's startup process
	 * @return e.g. {@code on orders-primary: pid 4242 idle in transaction 2m (app migrate, user deployer)}, or null
	 * while it is not known
	 */
	String describe(List<LockRow> locks, int startupPid);

}
