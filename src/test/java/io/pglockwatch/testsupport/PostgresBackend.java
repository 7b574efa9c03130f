package io.pglockwatch.testsupport;

import java.util.Map;

/**
 * One way of running a PostgreSQL server process ({@link EmbeddedPostgresBackend} or {@link DockerPostgresBackend}).
 * {@link PostgresServer} holds everything that does not depend on how the server runs.
 */
interface PostgresBackend {

	/** {@code "embedded"} or {@code "docker"}, for messages. */
	String kind();

	String host();

	/** Stays the same across {@link #stop()} and {@link #start()}. */
	int port();

	String password();

	/**
	 * Starts the server; after a {@link #stop()} it starts again on the same port with the same data, so JDBC URLs
	 * handed out earlier stay valid.
	 */
	void start(Map<String, String> settings) throws Exception;

	/** Stops the server and keeps its data for a later {@link #start(Map)}. */
	void stop() throws Exception;

	/** Stops the server if needed and removes its data; the backend cannot be started again. */
	void destroy();

	/** A short excerpt of the server log, to put into failure messages; empty if there is none. */
	default String logTail() {
		return "";
	}
}
