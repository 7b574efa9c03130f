package io.pglockwatch.security;

import java.net.CookieManager;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.MeterRegistry;
import io.pglockwatch.testsupport.ShiftableClock;
import io.pglockwatch.testsupport.TestLogin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The running service against a password guesser, an actuator prober and a framing page: failed logins are
 * throttled (429 with Retry-After) per user and per address, logged at WARN without the password and counted;
 * actuator endpoints that show or change configuration are operator-only; every page carries a
 * Content-Security-Policy without inline script, a Referrer-Policy and frame denial, and the session cookie is
 * SameSite. The target refuses connections: nothing here needs a poll.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
		"pglockwatch.targets[0].name=lab", "pglockwatch.targets[0].url=jdbc:postgresql://127.0.0.1:1/lab",
		"pglockwatch.poll.interval=10s", "spring.datasource.url=jdbc:h2:mem:security-hardening;DB_CLOSE_DELAY=-1",
		"pglockwatch.security.login-required=true", "pglockwatch.security.users[0].name=viewer",
		"pglockwatch.security.users[0].password-hash=" + TestLogin.HASH, "pglockwatch.security.users[0].role=viewer",
		"pglockwatch.security.users[1].name=operator", "pglockwatch.security.users[1].password-hash=" + TestLogin.HASH,
		"pglockwatch.security.users[1].role=operator",
		"management.endpoints.web.exposure.include=health,info,prometheus,loggers,env,configprops" })
@ExtendWith(OutputCaptureExtension.class)
class SecurityHardeningIntegrationTests {

	private static final String WRONG = "not-the-password-123";

	@LocalServerPort
	int port;

	@Autowired
	ShiftableClock clock;

	@Autowired
	MeterRegistry registry;

	private final HttpClient http = HttpClient.newHttpClient();

	@BeforeEach
	void forgetEarlierFailures() {
		// every test starts an hour after the last one, so no throttle carries over from another test
		this.clock.shift(Duration.ofHours(1));
	}

	@Test
	void repeatedWrongPasswordsAreThrottledLoggedAndCounted(CapturedOutput output) throws Exception {
		double before = failures("bad-credentials");
		for (int i = 1; i <= LoginThrottle.FREE_FAILURES; i++) {
			assertThat(basic("/api/v1/targets", "viewer", WRONG).statusCode()).as("attempt " + i).isEqualTo(401);
		}
		HttpResponse<String> refused = basic("/api/v1/targets", "viewer", WRONG);
		assertThat(refused.statusCode()).isEqualTo(429);
		assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying((s) -> assertThat(Long.parseLong(s)).isPositive());
		assertThat(refused.body()).contains("too many failed logins");
		// the right password does not get through while the user is throttled: guessing gains nothing
		assertThat(basic("/api/v1/targets", "viewer", TestLogin.PASSWORD).statusCode()).isEqualTo(429);

		assertThat(failures("bad-credentials") - before).isEqualTo(LoginThrottle.FREE_FAILURES);
		assertThat(failures("throttled")).isPositive();
		assertThat(output.getAll()).contains("Failed login for user 'viewer' from 127.0.0.1")
			.contains("Login refused for user 'viewer' from 127.0.0.1")
			.doesNotContain(WRONG)
			.doesNotContain(TestLogin.PASSWORD);

		// once the delay has passed, the right password works and clears the count
		this.clock.shift(Duration.ofMinutes(16));
		assertThat(basic("/api/v1/targets", "viewer", TestLogin.PASSWORD).statusCode()).isEqualTo(200);
		assertThat(basic("/api/v1/targets", "viewer", TestLogin.PASSWORD).statusCode()).isEqualTo(200);
	}

	@Test
	void guessingManyUserNamesFromOneAddressIsThrottledToo() throws Exception {
		for (int i = 1; i <= LoginThrottle.FREE_FAILURES; i++) {
			assertThat(basic("/api/v1/targets", "nobody" + i, WRONG).statusCode()).isEqualTo(401);
		}
		assertThat(basic("/api/v1/targets", "someone-else", WRONG).statusCode()).isEqualTo(429);
	}

	@Test
	void theLoginFormIsThrottledWithAPage() throws Exception {
		HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
		for (int i = 1; i <= LoginThrottle.FREE_FAILURES; i++) {
			HttpResponse<String> wrong = formLogin(browser, "operator", WRONG);
			assertThat(wrong.statusCode()).isEqualTo(302);
			assertThat(wrong.headers().firstValue("Location")).hasValueSatisfying((l) -> assertThat(l).endsWith("/login?error"));
		}
		HttpResponse<String> refused = formLogin(browser, "operator", TestLogin.PASSWORD);
		assertThat(refused.statusCode()).isEqualTo(429);
		assertThat(refused.headers().firstValue("Retry-After")).isPresent();
	}

	@Test
	void healthDetailsAndTheAlertsAndStoreComponentsAreForLoggedInUsersOnly() throws Exception {
		HttpResponse<String> anonymous = get("/actuator/health", null);
		assertThat(anonymous.statusCode()).isEqualTo(200);
		assertThat(anonymous.body()).contains("\"status\":\"UP\"").doesNotContain("components", "alerts", "store");
		HttpResponse<String> viewer = get("/actuator/health", "viewer");
		assertThat(viewer.statusCode()).isEqualTo(200);
		JsonNode alerts = JsonMapper.builder().build().readTree(viewer.body()).path("components").path("alerts");
		assertThat(alerts.path("status").stringValue()).isEqualTo("UP");
		assertThat(alerts.path("details").path("pagerduty").path("rejecting").booleanValue()).isFalse();
		assertThat(alerts.path("details").path("webhook").has("pending")).isTrue();
		// the store component: its kind, and no figures for an in-memory store
		JsonNode store = JsonMapper.builder().build().readTree(viewer.body()).path("components").path("store");
		assertThat(store.path("details").path("type").stringValue()).isEqualTo("h2-memory");
		assertThat(store.path("details").has("sizeBytes")).isFalse();
		// the probes stay the bare states: nothing about alerts or the store's disk can fail them
		assertThat(get("/actuator/health/liveness", "viewer").body()).doesNotContain("alerts", "store");
		assertThat(get("/actuator/health/readiness", "viewer").body()).doesNotContain("alerts", "store");
	}

	@Test
	void actuatorWritesAndConfigurationAreForOperatorsOnly() throws Exception {
		assertThat(get("/actuator/health", null).statusCode()).isEqualTo(200);
		assertThat(get("/actuator/prometheus", null).statusCode()).isEqualTo(200);
		assertThat(get("/actuator/loggers", "viewer").statusCode()).isEqualTo(403);
		assertThat(get("/actuator/env", "viewer").statusCode()).isEqualTo(403);
		assertThat(get("/actuator/configprops", "viewer").statusCode()).isEqualTo(403);
		assertThat(get("/actuator", "viewer").statusCode()).isEqualTo(403);
		assertThat(get("/actuator/info", "viewer").statusCode()).isEqualTo(200);
		assertThat(setLogLevel("viewer").statusCode()).isEqualTo(403);
		assertThat(setLogLevel("operator").statusCode()).isEqualTo(204);
		assertThat(get("/actuator/env", "operator").statusCode()).isEqualTo(200);
	}

	@Test
	void pagesCarryAPolicyThatForbidsInlineScriptAndFraming() throws Exception {
		HttpResponse<String> login = get("/login", null);
		assertThat(login.statusCode()).isEqualTo(200);
		assertThat(login.headers().firstValue("Content-Security-Policy")).hasValueSatisfying((csp) -> assertThat(csp)
			.contains("script-src 'self'", "frame-ancestors 'none'", "object-src 'none'")
			.doesNotContain("unsafe-inline", "unsafe-eval"));
		assertThat(login.headers().firstValue("Referrer-Policy")).hasValue("same-origin");
		assertThat(login.headers().firstValue("X-Frame-Options")).hasValue("DENY");
		assertThat(login.headers().allValues("Set-Cookie")).anySatisfy((cookie) -> assertThat(cookie)
			.startsWith("JSESSIONID=")
			.contains("HttpOnly")
			.containsIgnoringCase("SameSite=Lax"));
		assertThat(login.body()).doesNotContain("onsubmit", "onclick", "<script>");
		assertThat(get("/js/confirm.js", null).statusCode()).isEqualTo(200);
	}

	@Test
	void requestsNothingServesAre4xxProblemsInOneLogLine(CapturedOutput output) throws Exception {
		String[][] cases = { { "GET /actuator/health HTTP/1.1", "multipart/form-data", "415" },
				{ "POST /actuator/prometheus HTTP/1.1", "multipart/form-data; boundary=x", "415" },
				{ "POST /api/v1/targets HTTP/1.1", "multipart/form-data; boundary=x", "415" },
				{ "GET /api/v1/incidents?state=%ZZ HTTP/1.1", null, "400" },
				{ "GET /api/v1/incidents?state=%C0%AF HTTP/1.1", null, "400" },
				{ "GET /incidents?state=%C0%AF HTTP/1.1", null, "400" },
				{ "GET /error HTTP/1.1", null, "404" } };
		raw("GET /actuator/health HTTP/1.1", null); // the first request's own start-up lines are not ours
		for (String[] c : cases) {
			int linesBefore = output.getAll().split("\n").length;
			String response = raw(c[0], c[1]);
			assertThat(response).as(c[0]).startsWith("HTTP/1.1 " + c[2]).contains("application/problem+json");
			assertThat(response).doesNotContain("Exception", "at org.");
			int logged = output.getAll().split("\n").length - linesBefore;
			assertThat(logged).as("log lines for " + c[0]).isLessThanOrEqualTo(1);
		}
	}

	/** A request sent as bytes: java.net.http refuses to send a malformed percent-encoding. */
	private String raw(String requestLine, String contentType) throws Exception {
		try (Socket socket = new Socket("localhost", this.port)) {
			socket.setSoTimeout(10_000);
			String request = requestLine + "\r\nHost: localhost\r\nAuthorization: Basic "
					+ Base64.getEncoder().encodeToString(("viewer:" + TestLogin.PASSWORD).getBytes(StandardCharsets.UTF_8))
					+ "\r\n" + ((contentType != null) ? "Content-Type: " + contentType + "\r\nContent-Length: 2\r\n" : "")
					+ "Connection: close\r\n\r\n" + ((contentType != null) ? "--" : "");
			socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
			return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	private HttpResponse<String> setLogLevel(String user) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri("/actuator/loggers/io.pglockwatch"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"configuredLevel\":\"INFO\"}"));
		return this.http.send(withBasic(request, user).build(), HttpResponse.BodyHandlers.ofString());
	}

	private double failures(String reason) {
		return this.registry.get("pglockwatch.login.failures").tag("reason", reason).counter().count();
	}

	private HttpResponse<String> formLogin(HttpClient browser, String user, String password) throws Exception {
		String page = browser.send(HttpRequest.newBuilder(uri("/login")).build(), HttpResponse.BodyHandlers.ofString())
			.body();
		Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(page);
		assertThat(csrf.find()).as("the login form carries a CSRF token").isTrue();
		String form = "username=" + user + "&password=" + password + "&_csrf=" + csrf.group(1);
		return browser.send(HttpRequest.newBuilder(uri("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers.ofString(form))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> basic(String path, String user, String password) throws Exception {
		String credentials = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
		return this.http.send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Basic " + credentials).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> get(String path, String user) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path));
		return this.http.send((user == null ? request : withBasic(request, user)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private static HttpRequest.Builder withBasic(HttpRequest.Builder request, String user) {
		String credentials = Base64.getEncoder()
			.encodeToString((user + ":" + TestLogin.PASSWORD).getBytes(StandardCharsets.UTF_8));
		return request.header("Authorization", "Basic " + credentials);
	}

	private URI uri(String path) {
		return URI.create("http://localhost:" + this.port + path);
	}

	@TestConfiguration
	static class Clocks {

		@Bean
		@Primary
		ShiftableClock shiftableClock() {
			return ShiftableClock.system();
		}

	}

}
