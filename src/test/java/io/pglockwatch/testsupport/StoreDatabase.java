package io.pglockwatch.testsupport;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;

import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The kinds of database the service may keep its store in (incidents, alert outbox, guard actions, cluster leases),
 * each migrated with the Flyway scripts Spring Boot picks for it
 * ({@code spring.flyway.locations=classpath:db/migration/{vendor}}).
 */
public enum StoreDatabase {

	H2 {

		@Override
		public String url(String database) {
			// kept in memory between connections, and so between the stores of one test
			return "jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1";
		}

		@Override
		public String user() {
			return "sa";
		}

		@Override
		public String password() {
			return "";
		}

	},

	/** A database of its own on the shared server, so other tests' tables and locks are not in the way. */
	POSTGRESQL {

		@Override
		public String url(String database) {
			PostgresServer server = PostgresServer.shared();
			server.createDatabase(database);
			return server.jdbcUrl(database);
		}

		@Override
		public String user() {
			return PostgresServer.shared().superuser();
		}

		@Override
		public String password() {
			return PostgresServer.shared().password();
		}

	};

	public abstract String url(String database);

	public abstract String user();

	public abstract String password();

	/** Drops everything in the database, creating it if need be, and applies the migrations of its vendor. */
	public void recreateSchema(String database) {
		String url = url(database);
		// resolved the way Spring Boot resolves {vendor}, so a script in the wrong directory fails here too
		String vendor = DatabaseDriver.fromJdbcUrl(url).getId();
		Flyway flyway = Flyway.configure()
			.dataSource(url, user(), password())
			.locations("classpath:db/migration/" + vendor)
			.cleanDisabled(false)
			.load();
		flyway.clean();
		flyway.migrate();
	}

	/** A new, unpooled data source: two of them behave like two runs of the service on one database. */
	public DataSource newDataSource(String database) {
		return new DriverManagerDataSource(url(database), user(), password());
	}

}
