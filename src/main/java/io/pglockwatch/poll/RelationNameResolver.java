package io.pglockwatch.poll;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.pglockwatch.lock.LockSnapshot;
import io.pglockwatch.lock.RelationName;

/**
 * Names relations of other databases on the same server. pg_locks shows every database's locks, but a
 * relation oid only means something in its own database, so the name is looked up there, once, and
 * cached. A database the monitor cannot connect to yields {@code database:oid} with the reason, retried
 * after a while rather than on every poll.
 */
public final class RelationNameResolver {

	static final String NAMES_SQL = """
			SELECT c.oid, n.nspname, c.relname
			FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.oid = ANY (?::oid[])
			""";

	private static final int MAX_CACHED = 50_000;

	private static final Duration RETRY_FAILED_AFTER = Duration.ofMinutes(1);

	private final DatabaseConnector connector;

	private final Clock clock;

	private final Map<String, RelationName> names = new ConcurrentHashMap<>();

	private final Map<Long, Failure> failedDatabases = new ConcurrentHashMap<>();

	public RelationNameResolver(DatabaseConnector connector, Clock clock) {
		this.connector = connector;
		this.clock = clock;
	}

	/**
	 * @param relations relation oids by database oid
	 * @param databaseNames database names by oid
	 * @return a name for every requested relation, keyed by {@link LockSnapshot#relationKey}
	 */
	public Map<String, RelationName> resolve(Map<Long, Set<Long>> relations, Map<Long, String> databaseNames) {
		Map<String, RelationName> result = new HashMap<>();
		relations.forEach((database, oids) -> {
			String databaseName = databaseNames.getOrDefault(database, String.valueOf(database));
			Set<Long> missing = new HashSet<>();
			for (long oid : oids) {
				RelationName cached = this.names.get(LockSnapshot.relationKey(database, oid));
				if (cached != null) {
					result.put(LockSnapshot.relationKey(database, oid), cached);
				}
				else {
					missing.add(oid);
				}
			}
			if (!missing.isEmpty()) {
				result.putAll(lookUp(database, databaseName, missing));
			}
		});
		return result;
	}

	private Map<String, RelationName> lookUp(long database, String databaseName, Set<Long> oids) {
		Map<String, RelationName> found = new HashMap<>();
		Failure failure = this.failedDatabases.get(database);
		Instant now = this.clock.instant();
		if (failure == null || now.isAfter(failure.retryAt())) {
			try (Connection connection = this.connector.open(databaseName);
					PreparedStatement statement = connection.prepareStatement(NAMES_SQL)) {
				Array array = connection.createArrayOf("int8", oids.toArray());
				statement.setArray(1, array);
				try (ResultSet rs = statement.executeQuery()) {
					while (rs.next()) {
						RelationName name = RelationName.of(rs.getString("nspname"), rs.getString("relname"));
						String key = LockSnapshot.relationKey(database, rs.getLong("oid"));
						found.put(key, name);
						cache(key, name);
					}
				}
				this.failedDatabases.remove(database);
				failure = null;
			}
			catch (SQLException ex) {
				failure = new Failure("cannot read names in database " + databaseName + ": " + ex.getMessage(),
						now.plus(RETRY_FAILED_AFTER));
				this.failedDatabases.put(database, failure);
			}
		}
		for (long oid : oids) {
			String key = LockSnapshot.relationKey(database, oid);
			if (!found.containsKey(key)) {
				String reason = (failure != null) ? failure.reason() : "relation no longer exists";
				found.put(key, RelationName.unresolved(databaseName, oid, reason));
			}
		}
		return found;
	}

	private void cache(String key, RelationName name) {
		if (this.names.size() >= MAX_CACHED) {
			// dropped tables leave stale oids behind; starting over is cheaper than tracking age
			this.names.clear();
		}
		this.names.put(key, name);
	}

	private record Failure(String reason, Instant retryAt) {
	}

}
