package io.pglockwatch.lock;

/**
 * The tag of a lockable object as pg_locks shows it. Two lock rows are on the same object exactly when
 * their tags are equal. Columns that a lock type does not use are null, as in pg_locks.
 *
 * @param lockType pg_locks.locktype: relation, extend, page, tuple, transactionid, virtualxid, object,
 * userlock, advisory, spectoken, applytransaction...
 * @param database database oid (0 for shared catalogs)
 */
public record LockObject(String lockType, Long database, Long relation, Integer page, Integer tuple,
		String virtualXid, Long transactionId, Long classId, Long objId, Integer objSubId) {

	public boolean isRelation() {
		return "relation".equals(this.lockType);
	}

}
