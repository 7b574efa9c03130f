package io.pglockwatch.gate;

import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** With a monitor: the gate asks the service's preflight before each attempt and waits while it says "not now". */
class MonitorPreCheckTests {

	private static final String NOT_NOW = """
			{"target":"orders-db","safe":false,"mode":"AccessExclusiveLock","statementKind":"ALTER TABLE ADD COLUMN",
			 "concurrently":false,"relations":[{"relation":"public.orders","requested":"orders","mode":"AccessExclusiveLock","oid":1}],
			 "conflicts":[{"pid":4242,"relation":"public.orders","mode":"AccessShareLock","granted":true,
			   "state":"idle in transaction","applicationName":"reporting","user":"report","clientAddress":"10.0.0.3",
			   "transactionAgeSeconds":731.165,"query":"SELECT count(*) FROM orders","preparedTransaction":null}],
			 "olderTransactions":[]}""";

	private static final String SAFE = """
			{"target":"orders-db","safe":true,"mode":"AccessExclusiveLock","statementKind":"ALTER TABLE ADD COLUMN",
			 "concurrently":false,"relations":[],"conflicts":[],"olderTransactions":[]}""";

	@Test
	void theGateWaitsWhileThePreflightSaysNotNow() throws Exception {
		List<String> statements = Collections.synchronizedList(new ArrayList<>());
		List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
		AtomicInteger calls = new AtomicInteger();
		HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		server.createContext("/api/v1/targets/orders-db/preflight", exchange -> {
			String query = exchange.getRequestURI().getRawQuery();
			statements.add(URLDecoder.decode(query.substring(query.indexOf("statement=") + 10), StandardCharsets.UTF_8));
			authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
			byte[] body = (calls.incrementAndGet() == 1 ? NOT_NOW : SAFE).getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().add("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, body.length);
			exchange.getResponseBody().write(body);
			exchange.close();
		});
		server.start();
		try {
			GateDatabase db = new GateDatabase("gate_monitor");
			Gate gate = new Gate(GateSettings.builder().backoffInitial(Duration.ofMillis(50))
					.backoffMax(Duration.ofMillis(100)).monitorUrl("http://127.0.0.1:" + server.getAddress().getPort() + "/")
					.monitorTarget("orders-db").monitorToken("s3cret-token").build());
			Flyway flyway = gate.configure(db.flyway("monitor")).load();
			gate.migrate(flyway);
			assertThat(db.columnExists("orders", "note")).isTrue();
		}
		finally {
			server.stop(0);
		}
		assertThat(calls).hasValue(2);
		assertThat(statements).containsOnly("ALTER TABLE orders ADD COLUMN note text");
		assertThat(authorizations).containsOnly("Bearer s3cret-token");
	}

}
