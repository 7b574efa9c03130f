package io.pglockwatch.incident;

import javax.sql.DataSource;

import io.pglockwatch.testsupport.PostgresServer;
import org.flywaydb.core.Flyway;

import org.springframework.boot.jdbc.DatabaseDriver;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The kinds of database the service may keep its incident history in, each migrated with the Flyway scripts Spring
 * Boot picks for it ({@code spring.flyway.locations=classpath:db/migration/{vendor}}).
 */
enum IncidentDatabase {

	H2 {

		@Override
		String url(String database) {
			// kept in memory between connections, and so between the stores of one test
			return "jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1";
		}

		@Override
		String user() {
			return "sa";
		}

		@Override
		String password() {
			return "";
		}

	},

	/** A database of its own on the shared server, so other tests' tables and locks are not in the way. */
	POSTGRESQL {

		@Override
		String url(String database) {
			PostgresServer server = PostgresServer.shared();
			server.createDatabase(database);
			return server.jdbcUrl(database);
		}

		@Override
		String user() {
			return PostgresServer.shared().superuser();
		}

		@Override
		String password() {
			return PostgresServer.shared().password();
		}

	};

	abstract String url(String database);

	abstract String user();

	abstract String password();

	/** Drops everything in the database, creating it if need be, and applies the migrations of its vendor. */
	void recreateSchema(String database) {
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
	DataSource newDataSource(String database) {
		return new DriverManagerDataSource(url(database), user(), password());
	}

}
