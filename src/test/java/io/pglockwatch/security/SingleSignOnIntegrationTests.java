package io.pglockwatch.security;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pglockwatch.PgLockwatchApplication;
import io.pglockwatch.testsupport.HeadlessChromium;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.OidcProvider;
import io.pglockwatch.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Single sign-on against a real OpenID Connect provider (Spring Authorization Server, {@link OidcProvider}) started
 * next to pg-lockwatch: people log in through the provider's form in headless Chromium and get the role their
 * {@code groups} claim grants, or a 403 page that says why not; logout ends the provider's session too; pipelines'
 * JWTs from the provider are accepted on the API, forged and expired ones refused, and static tokens still work.
 * Everything runs on 127.0.0.1 (the provider takes loopback redirects on an IP address only).
 */
class SingleSignOnIntegrationTests {

	private static final String STATIC_TOKEN = "4f1d0c5a9e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1";

	private static OidcProvider provider;

	private static ConfigurableApplicationContext service;

	private static String base;

	private static WebDriver browser;

	private static HeadlessChromium chromium;

	@BeforeAll
	static void start() throws Exception {
		int port;
		try (ServerSocket socket = new ServerSocket(0)) {
			port = socket.getLocalPort();
		}
		provider = OidcProvider.start(port);
		base = "http://127.0.0.1:" + port;
		Map<String, String> properties = new LinkedHashMap<>(LabService.properties(PostgresServer.shared()));
		properties.put("server.port", String.valueOf(port));
		properties.put("server.address", "127.0.0.1");
		properties.put("pglockwatch.security.login-required", "true");
		properties.put("pglockwatch.security.oidc.issuer-uri", provider.issuer());
		properties.put("pglockwatch.security.oidc.client-id", OidcProvider.CLIENT_ID);
		properties.put("pglockwatch.security.oidc.client-secret", OidcProvider.CLIENT_SECRET);
		properties.put("pglockwatch.security.oidc.scopes", "openid,profile");
		properties.put("pglockwatch.security.oidc.viewer-values[0]", OidcProvider.VIEWERS);
		properties.put("pglockwatch.security.oidc.operator-values[0]", OidcProvider.OPERATORS);
		properties.put("pglockwatch.security.api-tokens[0].name", "deploy");
		properties.put("pglockwatch.security.api-tokens[0].sha256", HexFormat.of()
			.formatHex(MessageDigest.getInstance("SHA-256").digest(STATIC_TOKEN.getBytes(StandardCharsets.UTF_8))));
		properties.put("pglockwatch.security.api-tokens[0].role", "viewer");
		String[] args = properties.entrySet()
			.stream()
			.map((e) -> "--" + e.getKey() + "=" + e.getValue())
			.toArray(String[]::new);
		service = new SpringApplicationBuilder(PgLockwatchApplication.class).run(args);
		chromium = HeadlessChromium.start(false);
		browser = chromium.driver();
	}

	@AfterAll
	static void stop() {
		if (chromium != null) {
			chromium.close();
		}
		if (service != null) {
			service.close();
		}
		if (provider != null) {
			provider.close();
		}
	}

	@BeforeEach
	void loggedOutEverywhere() {
		// one host, two ports: the browser's cookies for 127.0.0.1 are pg-lockwatch's and the provider's
		browser.get(base + "/login");
		browser.manage().deleteAllCookies();
	}

	private static WebDriverWait waitUpTo(int seconds) {
		return chromium.waitUpTo(seconds);
	}

	private static String text() {
		return chromium.text();
	}

	/** Opens the dashboard, chooses single sign-on and logs in at the provider's own form. */
	private static void logInAtTheProvider(String user) {
		browser.get(base + "/");
		waitUpTo(10).until((d) -> d.getCurrentUrl().endsWith("/login"));
		// no local users configured: the page offers single sign-on only
		assertThat(browser.findElements(By.name("password"))).isEmpty();
		browser.findElement(By.linkText("Log in with single sign-on")).click();
		waitUpTo(10).until((d) -> d.getCurrentUrl().startsWith(provider.issuer() + "/login"));
		browser.findElement(By.name("username")).sendKeys(user);
		browser.findElement(By.name("password")).sendKeys(OidcProvider.PASSWORD);
		browser.findElement(By.cssSelector("button[type=submit]")).click();
		waitUpTo(15).until((d) -> d.getCurrentUrl().startsWith(base));
	}

	@Test
	void aViewerLogsInAtTheProviderMayNotActAndLogsOutThere() {
		logInAtTheProvider("vera");
		waitUpTo(15).until((d) -> text().contains("Wait graph of lab"));
		assertThat(text()).contains("vera").doesNotContain("Login is off");

		// operators only: a viewer is refused
		browser.get(base + "/actuator");
		waitUpTo(10).until((d) -> text().contains("403"));

		browser.get(base + "/");
		waitUpTo(10).until((d) -> text().contains("Wait graph of lab"));
		browser.findElement(By.cssSelector("form.logout button[type=submit]")).click();
		waitUpTo(15).until((d) -> text().contains("You are logged out."));
		assertThat(browser.getCurrentUrl()).isEqualTo(base + "/login?logout");

		// the provider's session ended too: single sign-on asks for the password again
		browser.findElement(By.linkText("Log in with single sign-on")).click();
		waitUpTo(10).until((d) -> d.getCurrentUrl().startsWith(provider.issuer()));
		assertThat(browser.getCurrentUrl()).startsWith(provider.issuer() + "/login");
		assertThat(browser.findElements(By.name("password"))).hasSize(1);
	}

	@Test
	void anOperatorLogsInAtTheProviderAndMayAct() {
		logInAtTheProvider("otto");
		waitUpTo(15).until((d) -> text().contains("Wait graph of lab"));
		assertThat(text()).contains("otto");
		// the actuator's index is for operators only
		browser.get(base + "/actuator");
		waitUpTo(10).until((d) -> browser.getPageSource().contains("_links"));
	}

	@Test
	void someoneInNeitherGroupIsToldWhyOnA403Page() {
		logInAtTheProvider("nora");
		waitUpTo(15).until((d) -> text().contains("No role in pg-lockwatch"));
		String page = text();
		assertThat(page).contains("nora", provider.issuer(), "groups", OidcProvider.VIEWERS, OidcProvider.OPERATORS,
				"staff", "finance");
		assertThat(page).doesNotContain("Wait graph of lab");
		// no token on the page: a JWT starts with the base64 of '{"'
		assertThat(browser.getPageSource()).doesNotContain("eyJ");
		// any other page answers the same
		browser.get(base + "/incidents");
		waitUpTo(10).until((d) -> text().contains("No role in pg-lockwatch"));
	}

	@Test
	void aPipelinesJwtFromTheProviderIsAcceptedOnTheApi() throws Exception {
		HttpResponse<String> response = get("/api/v1/targets", provider.clientCredentialsToken(OidcProvider.PIPELINE));
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("\"lab\"");
	}

	@Test
	void aJwtWhoseGroupsGrantNoRoleIsForbidden() throws Exception {
		HttpResponse<String> response = get("/api/v1/targets",
				provider.clientCredentialsToken(OidcProvider.UNMAPPED_PIPELINE));
		assertThat(response.statusCode()).isEqualTo(403);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(response.body()).contains("groups");
	}

	@Test
	void aForgedJwtIsRefused() throws Exception {
		Instant later = Instant.now().plus(Duration.ofMinutes(10));
		List<String> groups = List.of(OidcProvider.OPERATORS);
		// the same claims signed with the provider's key pass: only the signature differs
		assertThat(get("/api/v1/targets", provider.signedToken("ci", groups, later)).statusCode()).isEqualTo(200);
		assertRefused(get("/api/v1/targets", provider.forgedToken("ci", groups, later)));
	}

	@Test
	void anExpiredJwtIsRefused() throws Exception {
		List<String> groups = List.of(OidcProvider.VIEWERS);
		Instant soon = Instant.now().plus(Duration.ofMinutes(2));
		assertThat(get("/api/v1/targets", provider.signedToken("ci", groups, soon)).statusCode()).isEqualTo(200);
		// past the validator's 60 s of clock skew
		Instant expired = Instant.now().minus(Duration.ofMinutes(5));
		assertRefused(get("/api/v1/targets", provider.signedToken("ci", groups, expired)));
	}

	@Test
	void staticTokensStillWork() throws Exception {
		assertThat(get("/api/v1/targets", STATIC_TOKEN).statusCode()).isEqualTo(200);
		HttpResponse<String> wrong = get("/api/v1/targets", STATIC_TOKEN.replace('4', '5'));
		assertThat(wrong.statusCode()).isEqualTo(401);
		assertThat(wrong.body()).contains("pglockwatch.security.api-tokens");
		assertThat(get("/api/v1/targets", null).statusCode()).isEqualTo(401);
	}

	@Test
	void aJwtIsForTheApiOnly() throws Exception {
		String token = provider.clientCredentialsToken(OidcProvider.PIPELINE);
		assertThat(get("/api/v1/targets", token).statusCode()).isEqualTo(200);
		// pages and the actuator take no bearer token: sent to the login instead
		assertThat(get("/", token).statusCode()).isIn(302, 401);
		assertThat(get("/actuator/info", token).statusCode()).isIn(302, 401);
	}

	private static void assertRefused(HttpResponse<String> response) {
		assertThat(response.statusCode()).isEqualTo(401);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(response.body()).contains("valid, unexpired JWT of " + provider.issuer());
	}

	private static HttpResponse<String> get(String path, String bearer) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
		if (bearer != null) {
			request.header("Authorization", "Bearer " + bearer);
		}
		return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
