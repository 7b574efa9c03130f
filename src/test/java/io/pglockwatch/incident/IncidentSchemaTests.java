package io.pglockwatch.incident;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import io.pglockwatch.testsupport.StoreDatabase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.jdbc.support.JdbcUtils;

/**
 * The H2 and PostgreSQL migrations describe the same schema: the store's SQL runs unchanged on both, so a column
 * or index added to one script only is a bug that the store's own tests may not notice.
 */
class IncidentSchemaTests {

	private static final String DATABASE = "incident_schema_it";

	private static final List<String> TABLES = List.of("incident", "incident_timeline", "alert_outbox", "guard_action",
			"cluster_lease", "cluster_member");

	@BeforeAll
	static void migrate() {
		for (StoreDatabase database : StoreDatabase.values()) {
			database.recreateSchema(DATABASE);
		}
	}

	@Test
	void bothVendorsHaveTheSameColumns() throws SQLException {
		Map<String, List<String>> h2 = describe(StoreDatabase.H2, IncidentSchemaTests::columns);
		Map<String, List<String>> postgresql = describe(StoreDatabase.POSTGRESQL, IncidentSchemaTests::columns);

		assertThat(h2).isEqualTo(postgresql);
		assertThat(h2.get("incident")).contains("id varchar(64) not null", "dedup_key varchar(255) not null",
				"opened_at timestamp with time zone not null", "resolved_at timestamp with time zone null",
				"ddl_statement large text null", "root_pid integer null", "peak_graph large text null",
				"details large text null");
		assertThat(h2.get("incident_timeline")).contains("at timestamp with time zone not null",
				"max_wait_ms bigint null");
	}

	@Test
	void bothVendorsHaveTheSameIndexesAndKeys() throws SQLException {
		Map<String, List<String>> h2 = describe(StoreDatabase.H2, IncidentSchemaTests::indexesAndKeys);
		Map<String, List<String>> postgresql = describe(StoreDatabase.POSTGRESQL,
				IncidentSchemaTests::indexesAndKeys);

		assertThat(h2).isEqualTo(postgresql);
		assertThat(h2.get("incident")).containsExactly("primary key (id)", "incident_dedup_key_idx (dedup_key)",
				"incident_opened_at_idx (opened_at)", "incident_state_idx (state)",
				"incident_target_kind_idx (target, kind)");
		assertThat(h2.get("incident_timeline")).containsExactly("primary key (id)",
				"foreign key (incident_id) references incident (id) on delete cascade",
				"incident_timeline_incident_at_idx (incident_id, at)");
	}

	private static Map<String, List<String>> describe(StoreDatabase database, Describer describer)
			throws SQLException {
		Map<String, List<String>> tables = new TreeMap<>();
		try (Connection connection = database.newDataSource(DATABASE).getConnection()) {
			DatabaseMetaData metaData = connection.getMetaData();
			for (String table : TABLES) {
				tables.put(table, describer.describe(metaData, connection.getSchema(), name(metaData, table)));
			}
		}
		return tables;
	}

	private static List<String> columns(DatabaseMetaData metaData, String schema, String table) throws SQLException {
		List<String> columns = new ArrayList<>();
		try (ResultSet rs = metaData.getColumns(null, schema, table, null)) {
			while (rs.next()) {
				boolean nullable = rs.getInt("NULLABLE") == DatabaseMetaData.columnNullable;
				columns.add(lower(rs.getString("COLUMN_NAME")) + " " + type(rs) + (nullable ? " null" : " not null"));
			}
		}
		return columns;
	}

	// the same meaning in the words of either driver: PostgreSQL's text is a VARCHAR without a useful size to it
	private static String type(ResultSet column) throws SQLException {
		int type = column.getInt("DATA_TYPE");
		int size = column.getInt("COLUMN_SIZE");
		String name = lower(column.getString("TYPE_NAME"));
		if (type == Types.CLOB || name.equals("text")) {
			return "large text";
		}
		if (type == Types.VARCHAR) {
			return "varchar(" + size + ")";
		}
		if (type == Types.TIMESTAMP_WITH_TIMEZONE || name.equals("timestamptz")) {
			return "timestamp with time zone";
		}
		if (type == Types.INTEGER || type == Types.BIGINT) {
			return JdbcUtils.resolveTypeName(type).toLowerCase(Locale.ROOT);
		}
		return name;
	}

	private static List<String> indexesAndKeys(DatabaseMetaData metaData, String schema, String table)
			throws SQLException {
		List<String> described = new ArrayList<>();
		Map<Integer, String> primaryKey = new TreeMap<>();
		try (ResultSet rs = metaData.getPrimaryKeys(null, schema, table)) {
			while (rs.next()) {
				primaryKey.put(rs.getInt("KEY_SEQ"), lower(rs.getString("COLUMN_NAME")));
			}
		}
		described.add("primary key (" + String.join(", ", primaryKey.values()) + ")");
		try (ResultSet rs = metaData.getImportedKeys(null, schema, table)) {
			while (rs.next()) {
				boolean cascade = rs.getInt("DELETE_RULE") == DatabaseMetaData.importedKeyCascade;
				described.add("foreign key (" + lower(rs.getString("FKCOLUMN_NAME")) + ") references "
						+ lower(rs.getString("PKTABLE_NAME")) + " (" + lower(rs.getString("PKCOLUMN_NAME")) + ")"
						+ (cascade ? " on delete cascade" : ""));
			}
		}
		// only the indexes the scripts name: each database adds its own for keys, named its own way
		Map<String, Map<Integer, String>> indexes = new TreeMap<>();
		try (ResultSet rs = metaData.getIndexInfo(null, schema, table, false, false)) {
			while (rs.next()) {
				String index = lower(rs.getString("INDEX_NAME"));
				if (index.endsWith("_idx")) {
					indexes.computeIfAbsent(index, (name) -> new TreeMap<>())
						.put(rs.getInt("ORDINAL_POSITION"), lower(rs.getString("COLUMN_NAME")));
				}
			}
		}
		indexes.forEach((index, columns) -> described.add(index + " (" + String.join(", ", columns.values()) + ")"));
		return described;
	}

	private static String name(DatabaseMetaData metaData, String name) throws SQLException {
		return metaData.storesUpperCaseIdentifiers() ? name.toUpperCase(Locale.ROOT) : name;
	}

	private static String lower(String name) {
		return (name != null) ? name.toLowerCase(Locale.ROOT) : "";
	}

	@FunctionalInterface
	private interface Describer {

		List<String> describe(DatabaseMetaData metaData, String schema, String table) throws SQLException;

	}

}
