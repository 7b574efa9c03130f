package io.pglockwatch.poll;

import java.sql.Connection;
import java.sql.SQLException;

/** Opens a monitor session on another database of the same server (same role, same timeouts). */
@FunctionalInterface
public interface DatabaseConnector {

	Connection open(String database) throws SQLException;

}
