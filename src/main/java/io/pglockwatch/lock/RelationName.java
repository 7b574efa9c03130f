package io.pglockwatch.lock;

/**
 * A relation's name as {@code schema.table}, or, when it cannot be named, {@code database:oid} with the
 * reason (e.g. the monitor may not connect to that database).
 */
public record RelationName(String name, String unresolvedReason) {

	public static RelationName of(String schema, String table) {
		return new RelationName(schema + "." + table, null);
	}

	public static RelationName unresolved(String database, long oid, String reason) {
		return new RelationName(database + ":" + oid, reason);
	}

	public boolean resolved() {
		return this.unresolvedReason == null;
	}

}
