package io.pglockwatch;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * pg-lockwatch: watches PostgreSQL lock queues and reports a DDL that waits with a queue behind it.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PgLockwatchApplication {

	public static void main(String[] args) {
		SpringApplication.run(PgLockwatchApplication.class, args);
	}

}
