package io.pglockwatch.poll;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.postgresql.Driver;

/**
 * The monitor's sessions on one target: a pool of at most {@value #MAX_IDLE} idle connections, opened
 * directly through the driver so that a refused or unreachable server fails at once with its real cause
 * (a general-purpose pool such as Hikari waits out its whole connection timeout instead, which would make
 * a target that is down look like one that hangs).
 * <p>
 * Every session is autocommit, read-only by default, named {@value #APPLICATION_NAME}, and sets
 * {@code lock_timeout} and {@code statement_timeout}, so the monitor never waits in a lock queue itself
 * and never runs long. Connect, login and socket timeouts are set, so a server that accepts a connection
 * and never answers cannot hold a thread forever.
 */
public final class TargetConnections implements DatabaseConnector, AutoCloseable {

	/** application_name of every monitor session; the guard never acts on it. */
	public static final String APPLICATION_NAME = "pg-lockwatch";

	static final int MAX_IDLE = 2;

	private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/?#]+/)([^?#]+)(.*)");

	private final TargetsProperties.Target target;

	private final PollProperties poll;

	private final Driver driver = new Driver();

	private final Deque<Connection> idle = new ArrayDeque<>();

	private boolean closed;

	public TargetConnections(TargetsProperties.Target target, PollProperties poll) {
		this.target = target;
		this.poll = poll;
	}

	public String targetName() {
		return this.target.name();
	}

	/** A session on the target's own database: a pooled one if one is idle, else a new one. */
	public Connection borrow() throws SQLException {
		synchronized (this.idle) {
			if (this.closed) {
				throw new SQLException("target " + this.target.name() + " is shut down", "08003");
			}
			Connection connection = this.idle.pollFirst();
			if (connection != null) {
				return connection;
			}
		}
		return connect(this.target.url());
	}

	/** Returns a session; a broken one (or one beyond the idle limit) is closed instead. */
	public void release(Connection connection, boolean broken) {
		if (connection == null) {
			return;
		}
		synchronized (this.idle) {
			if (!broken && !this.closed && this.idle.size() < MAX_IDLE) {
				this.idle.addFirst(connection);
				return;
			}
		}
		closeQuietly(connection);
	}

	/** Drops idle sessions, e.g. after the server restarted under them. */
	public void evictIdle() {
		synchronized (this.idle) {
			this.idle.forEach(TargetConnections::closeQuietly);
			this.idle.clear();
		}
	}

	/** A new session on another database of the same server, for the caller to close. */
	@Override
	public Connection open(String database) throws SQLException {
		Matcher matcher = URL.matcher(this.target.url());
		if (!matcher.matches()) {
			throw new SQLException("cannot derive a URL for database " + database + " from pglockwatch.targets["
					+ this.target.name() + "].url");
		}
		return connect(matcher.group(1) + URLEncoder.encode(database, StandardCharsets.UTF_8)
				.replace("+", "%20") + matcher.group(3));
	}

	private Connection connect(String url) throws SQLException {
		Properties properties = new Properties();
		if (this.target.username() != null) {
			properties.setProperty("user", this.target.username());
		}
		if (this.target.password() != null) {
			properties.setProperty("password", this.target.password());
		}
		int connectSeconds = seconds(this.poll.connectTimeout());
		properties.setProperty("ApplicationName", APPLICATION_NAME);
		properties.setProperty("connectTimeout", String.valueOf(connectSeconds));
		properties.setProperty("loginTimeout", String.valueOf(connectSeconds));
		// the statement timeout ends a slow read on the server; the socket timeout ends a read from a
		// server that does not answer at all
		properties.setProperty("socketTimeout", String.valueOf(seconds(this.poll.statementTimeout()) + 2));
		properties.setProperty("cancelSignalTimeout", String.valueOf(connectSeconds));
		properties.setProperty("tcpKeepAlive", "true");
		Connection connection = this.driver.connect(url, properties);
		if (connection == null) {
			throw new SQLException("not a PostgreSQL JDBC URL: pglockwatch.targets[" + this.target.name() + "].url");
		}
		try (Statement statement = connection.createStatement()) {
			// numbers of milliseconds from validated Durations; nothing user-typed reaches this text
			statement.execute("SET statement_timeout = " + this.poll.statementTimeout().toMillis()
					+ "; SET lock_timeout = " + this.poll.lockTimeout().toMillis()
					+ "; SET idle_in_transaction_session_timeout = " + this.poll.statementTimeout().toMillis()
					+ "; SET default_transaction_read_only = on");
		}
		catch (SQLException ex) {
			closeQuietly(connection);
			throw ex;
		}
		return connection;
	}

	private static int seconds(Duration duration) {
		return (int) Math.max(1, (duration.toMillis() + 999) / 1000);
	}

	@Override
	public void close() {
		synchronized (this.idle) {
			this.closed = true;
		}
		evictIdle();
	}

	static void closeQuietly(Connection connection) {
		try {
			connection.close();
		}
		catch (SQLException ex) {
			// already broken; nothing to do
		}
	}

}
