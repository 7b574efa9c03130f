package io.pglockwatch;

import java.util.ArrayList;
import java.util.List;

import io.pglockwatch.demo.DemoWorkload;
import io.pglockwatch.testsupport.PostgresServer;

import org.springframework.boot.SpringApplication;

/**
 * The demo: {@code mvn spring-boot:test-run}. Starts a real embedded PostgreSQL, a workload that reproduces the
 * ALTER TABLE lock-queue incident every couple of minutes, and pg-lockwatch watching it. Lives in the test
 * sources so none of it reaches the production jar.
 */
public final class DemoPgLockwatchApplication {

	private DemoPgLockwatchApplication() {
	}

	public static void main(String[] args) {
		PostgresServer server = PostgresServer.shared();
		DemoWorkload workload = new DemoWorkload(server, PostgresServer.DEFAULT_DATABASE);
		workload.start();
		List<String> arguments = new ArrayList<>(List.of(args));
		arguments.add("--spring.profiles.active=demo");
		arguments.add("--pglockwatch.targets[0].name=demo");
		arguments.add("--pglockwatch.targets[0].url=" + server.jdbcUrl(PostgresServer.DEFAULT_DATABASE));
		arguments.add("--pglockwatch.targets[0].username=" + server.superuser());
		arguments.add("--pglockwatch.targets[0].password=" + server.password());
		SpringApplication.from(PgLockwatchApplication::main).run(arguments.toArray(String[]::new));
	}

}
