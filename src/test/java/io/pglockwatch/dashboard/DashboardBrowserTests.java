package io.pglockwatch.dashboard;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.pglockwatch.testsupport.HeadlessChromium;
import io.pglockwatch.testsupport.LabService;
import io.pglockwatch.testsupport.LockScenario;
import io.pglockwatch.testsupport.PostgresServer;
import io.pglockwatch.testsupport.TestLogin;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard in a real headless Chromium (Debian's chromium and chromium-driver) against the running service,
 * login on, and the ALTER TABLE incident staged on a real PostgreSQL. Screenshots go to target/screenshots.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class DashboardBrowserTests {

	private static final PostgresServer server = PostgresServer.shared();

	private static WebDriver browser;

	private static HeadlessChromium chromium;

	@LocalServerPort
	int port;

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		LabService.register(registry, LabService.properties(server));
		registry.add("pglockwatch.detection.resolve-after", () -> "2s");
		registry.add("pglockwatch.security.login-required", () -> "true");
		registry.add("pglockwatch.security.users[0].name", () -> "sre");
		registry.add("pglockwatch.security.users[0].password-hash", () -> TestLogin.HASH);
		registry.add("pglockwatch.security.users[0].role", () -> "operator");
	}

	@BeforeAll
	static void startBrowser() {
		chromium = HeadlessChromium.start(false);
		browser = chromium.driver();
	}

	@AfterAll
	static void stopBrowser() {
		if (chromium != null) {
			chromium.close();
		}
	}

	private String url(String path) {
		return "http://localhost:" + this.port + path;
	}

	private static void screenshot(String name) throws Exception {
		Path dir = Path.of("target", "screenshots");
		Files.createDirectories(dir);
		File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
		Files.copy(shot.toPath(), dir.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
	}

	private static WebDriverWait waitUpTo(int seconds) {
		return chromium.waitUpTo(seconds);
	}

	private static void click(By by) {
		chromium.click(by);
	}

	private static String text() {
		return chromium.text();
	}

	/** Tests share the browser: start logged out, then log in through the form as the operator. */
	private void logInAsOperator() {
		browser.get(url("/login"));
		browser.manage().deleteAllCookies();
		browser.get(url("/login"));
		browser.findElement(By.name("username")).sendKeys("sre");
		browser.findElement(By.name("password")).sendKeys(TestLogin.PASSWORD);
		browser.findElement(By.cssSelector("form button[type=submit]")).click();
		waitUpTo(10).until((d) -> text().contains("Wait graph of lab"));
	}

	private int status(String path) throws Exception {
		return HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create(url(path))).build(), HttpResponse.BodyHandlers.discarding())
			.statusCode();
	}

	@Test
	void anSreSeesTheQueueLiveAndItsIncidentAfterwards() throws Exception {
		// probes and scrapers need no login; the API does
		assertThat(status("/actuator/health")).isEqualTo(200);
		assertThat(status("/actuator/prometheus")).isEqualTo(200);
		assertThat(status("/api/v1/targets")).isEqualTo(401);

		browser.get(url("/"));
		browser.manage().deleteAllCookies(); // tests share the browser: start logged out
		browser.get(url("/"));
		assertThat(browser.getCurrentUrl()).endsWith("/login");
		browser.findElement(By.name("username")).sendKeys("sre");
		browser.findElement(By.name("password")).sendKeys(TestLogin.PASSWORD);
		browser.findElement(By.cssSelector("form button[type=submit]")).click();
		waitUpTo(10).until((d) -> text().contains("Wait graph of lab"));
		assertThat(text()).doesNotContain("Login is off").contains("sre");

		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "ui-setup"); Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS ui_users; CREATE TABLE ui_users (id int PRIMARY KEY, name text)");
		}
		((JavascriptExecutor) browser).executeScript("window.noFullReload = true;");
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "ui")) {
			LockScenario.DdlQueue staged = scenario.stageDdlQueue("ui_users", "ADD COLUMN email text", 12);
			LockScenario.Session holder = staged.holder();
			LockScenario.Session ddl = staged.ddl();

			waitUpTo(15).until((d) -> text().contains("AccessExclusiveLock on public.ui_users: 12 queued"));
			String page = text();
			// card roles are drawn in capitals by CSS; the rendered text is what a person reads
			assertThat(page).containsIgnoringCase("Root blocker")
				.containsIgnoringCase("Waiting DDL")
				.contains("pid " + holder.pid(), "idle in transaction", "pid " + ddl.pid(), "and 2 more", "holds lock",
						"queued behind");
			assertThat(browser.findElements(By.cssSelector(".arrow.hard"))).isNotEmpty();
			assertThat(browser.findElements(By.cssSelector("ol.queued li.soft"))).hasSize(10);
			waitUpTo(10).until((d) -> text().contains("ddl-lock-queue public.ui_users"));
			screenshot("dashboard-ddl-queue");
			assertThat(browser.getPageSource().length()).isLessThan(100_000);

			Thread.sleep(2000); // a few more polls, so the incident's timeline has a shape to draw
			holder.execute("ROLLBACK");
			waitUpTo(15).until((d) -> text().contains("Nobody waits for a lock."));
			assertThat(((JavascriptExecutor) browser).executeScript("return window.noFullReload === true;"))
				.as("updated in place by htmx, no reload")
				.isEqualTo(true);
			screenshot("dashboard-queue-drained");
		}

		browser.get(url("/incidents?kind=ddl-lock-queue"));
		waitUpTo(10).until((d) -> !browser.findElements(By.cssSelector("table.incidents a")).isEmpty());
		browser.findElements(By.cssSelector("table.incidents a")).get(0).click();
		waitUpTo(10).until((d) -> text().contains("Timeline"));
		assertThat(text()).contains("ddl-lock-queue on lab", "public.ui_users", "Graph at peak", "Root blocker");
		String points = browser.findElement(By.cssSelector("svg polyline.depth")).getAttribute("points");
		assertThat(points.split(" ")).hasSizeGreaterThan(3);
		assertThat(browser.getPageSource().length()).isLessThan(100_000);
		screenshot("incident-page");
	}

	@Test
	void anOperatorCancelsTheWaitingDdlWithOneConfirmedClick() throws Exception {
		logInAsOperator();
		try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "ui-setup"); Statement s = c.createStatement()) {
			s.execute("DROP TABLE IF EXISTS ui_cancel; CREATE TABLE ui_cancel (id int PRIMARY KEY)");
		}
		try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, "uicancel")) {
			LockScenario.DdlQueue staged = scenario.stageDdlQueue("ui_cancel", "ADD COLUMN email text", 4);
			LockScenario.Session holder = staged.holder();
			LockScenario.Session ddl = staged.ddl();
			CompletableFuture<Void> alter = staged.alter();
			browser.get(url("/"));
			waitUpTo(15).until((d) -> !browser.findElements(By.xpath("//a[contains(., 'public.ui_cancel')]")).isEmpty());
			click(By.xpath("//a[contains(., 'public.ui_cancel')]"));
			waitUpTo(10).until((d) -> !browser.findElements(By.cssSelector("form button.danger")).isEmpty());
			browser.findElement(By.cssSelector("form button.danger")).click();
			browser.switchTo().alert().accept(); // the confirmation
			waitUpTo(10).until((d) -> text().contains("Cancel of pid " + ddl.pid() + ": cancelled"));
			assertThat(alter).failsWithin(Duration.ofSeconds(5))
				.withThrowableThat()
				.withMessageContaining("canceling statement due to user request");
			scenario.awaitNoWaiters(Duration.ofSeconds(5));
			assertThat(holder.state()).isEqualTo("idle in transaction");
			assertThat(text()).contains("operator:sre");
			screenshot("incident-operator-cancel");
		}
	}

	/**
	 * Whoever can create a table names it: a relation name that breaks out of single quotes, double quotes, a script
	 * element or an attribute must come out as text, never run. An operator opens the incident and cancels the DDL;
	 * the only dialog is our confirmation, which shows the name literally, and the page carries a
	 * Content-Security-Policy that forbids inline script.
	 */
	@Test
	void hostileTableNamesRunNoScript() throws Exception {
		logInAsOperator();
		String[] names = { "xss1'+alert(document.domain)+'", "xss2\");alert(document.domain);//",
				"xss3</script><script>alert(document.domain)</script>", "xss4<img src=x onerror=alert(document.domain)>" };
		for (String name : names) {
			String quoted = "\"" + name.replace("\"", "\"\"") + "\"";
			try (Connection c = server.connect(PostgresServer.DEFAULT_DATABASE, "ui-setup");
					Statement s = c.createStatement()) {
				s.execute("DROP TABLE IF EXISTS " + quoted + "; CREATE TABLE " + quoted + " (id int PRIMARY KEY)");
			}
			String marker = name.substring(0, 4);
			try (LockScenario scenario = new LockScenario(server, PostgresServer.DEFAULT_DATABASE, marker)) {
				LockScenario.DdlQueue staged = scenario.stageDdlQueue(quoted, "ADD COLUMN email text", 4);
				browser.get(url("/"));
				waitUpTo(15).until((d) -> !browser.findElements(By.xpath("//a[contains(., '" + marker + "')]")).isEmpty());
				assertNoDialog(name + " on the live page");
				click(By.xpath("//a[contains(., '" + marker + "')]"));
				waitUpTo(10).until((d) -> !browser.findElements(By.cssSelector("form button.danger")).isEmpty());
				assertNoDialog(name + " on the incident page");
				// shown as PostgreSQL quotes it: in double quotes, an embedded double quote doubled
				assertThat(text()).contains(quoted);
				browser.findElement(By.cssSelector("form button.danger")).click();
				Alert confirm = browser.switchTo().alert();
				assertThat(confirm.getText()).startsWith("Cancel the waiting DDL pid " + staged.ddl().pid() + " on ")
					.contains(quoted);
				confirm.accept();
				waitUpTo(10).until((d) -> text().contains("Cancel of pid " + staged.ddl().pid() + ": cancelled"));
				assertNoDialog(name + " after the cancel");
				scenario.awaitNoWaiters(Duration.ofSeconds(5));
			}
			HttpResponse<Void> page = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(URI.create(url("/login"))).build(), HttpResponse.BodyHandlers.discarding());
			assertThat(page.headers().firstValue("Content-Security-Policy")).get(InstanceOfAssertFactories.STRING)
				.contains("script-src 'self'")
				.doesNotContain("unsafe-inline");
		}
		screenshot("incident-hostile-names");
	}

	private static void assertNoDialog(String where) {
		try {
			String text = browser.switchTo().alert().getText();
			browser.switchTo().alert().dismiss();
			throw new AssertionError("a script ran (" + where + "): dialog '" + text + "'");
		}
		catch (NoAlertPresentException expected) {
			// no script of the name's ran
		}
	}

}
