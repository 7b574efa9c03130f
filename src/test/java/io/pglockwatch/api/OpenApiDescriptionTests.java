package io.pglockwatch.api;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.pglockwatch.alert.OutboxEntry;
import io.pglockwatch.detect.IncidentKind;
import io.pglockwatch.lock.LockMode;
import io.pglockwatch.testsupport.HeadlessChromium;
import io.pglockwatch.testsupport.TestLogin;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.MethodParameter;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI description of the running service (login on, as in production): it is valid OpenAPI 3, it describes
 * exactly the API's handlers with all their parameters and problem responses, it and Swagger UI are refused to
 * anonymous callers, and Swagger UI renders in a real headless Chromium under the service's Content-Security-Policy.
 * The target refuses connections: nothing here needs a poll.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
		"pglockwatch.targets[0].name=lab", "pglockwatch.targets[0].url=jdbc:postgresql://127.0.0.1:1/lab",
		"pglockwatch.poll.interval=10s", "spring.datasource.url=jdbc:h2:mem:openapi;DB_CLOSE_DELAY=-1",
		"pglockwatch.security.login-required=true", "pglockwatch.security.users[0].name=viewer",
		"pglockwatch.security.users[0].password-hash=" + TestLogin.HASH, "pglockwatch.security.users[0].role=viewer",
		"pglockwatch.security.api-tokens[0].name=reader", "pglockwatch.security.api-tokens[0].role=viewer",
		"pglockwatch.security.api-tokens[0].sha256=" + OpenApiDescriptionTests.TOKEN_SHA256 })
class OpenApiDescriptionTests {

	static final String TOKEN = "openapi-reader-token-0123456789abcdef0123456789";

	static final String TOKEN_SHA256 = "0f747f696a0597e6099041e2a67bf5ac291ea5656c6099e47780f279da9be99a";

	private static final String PROBLEM_REF = "#/components/schemas/ProblemDetail";

	@LocalServerPort
	int port;

	@Autowired
	@Qualifier("requestMappingHandlerMapping")
	RequestMappingHandlerMapping handlerMapping;

	@Autowired
	JsonMapper json;

	private final HttpClient http = HttpClient.newHttpClient();

	@Test
	void theDescriptionIsValidOpenApi3() throws Exception {
		HttpResponse<String> response = get("/v3/api-docs", basicViewer());
		assertThat(response.statusCode()).isEqualTo(200);
		// kept for a reader or a client generator: target/openapi/pg-lockwatch.json
		Files.createDirectories(Path.of("target", "openapi"));
		Files.writeString(Path.of("target", "openapi", "pg-lockwatch.json"), response.body());
		assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("application/json"));
		ParseOptions options = new ParseOptions();
		options.setResolve(true);
		SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(response.body(), null, options);
		assertThat(parsed.getMessages()).as("validation messages").isEmpty();
		assertThat(parsed.getOpenAPI()).isNotNull();
		assertThat(parsed.getOpenAPI().getOpenapi()).startsWith("3.");
		assertThat(parsed.getOpenAPI().getInfo().getTitle()).isEqualTo("pg-lockwatch API");
		assertThat(parsed.getOpenAPI().getInfo().getVersion()).as("the version of the build").matches("\\d+\\.\\d+\\.\\d+.*");
		// the same document for a pipeline's bearer token as for a person
		HttpResponse<String> withToken = get("/v3/api-docs", "Bearer " + TOKEN);
		assertThat(withToken.statusCode()).isEqualTo(200);
		assertThat(this.json.readTree(withToken.body())).isEqualTo(this.json.readTree(response.body()));
	}

	@Test
	void everyHandlerIsDescribedAndNothingElse() throws Exception {
		JsonNode doc = description();
		Set<String> handled = new TreeSet<>();
		List<String> problems = new ArrayList<>();
		this.handlerMapping.getHandlerMethods().forEach((info, handler) -> {
			if (!isApiHandler(handler)) {
				return;
			}
			for (String path : paths(info)) {
				for (RequestMethod method : info.getMethodsCondition().getMethods()) {
					handled.add(method.name() + " " + path);
					JsonNode operation = doc.path("paths").path(path).path(method.name().toLowerCase());
					if (operation.isMissingNode()) {
						continue; // reported below, with every other difference
					}
					checkParameters(handler, path, method, operation, problems);
					checkResponses(path, method, operation, problems);
				}
			}
		});
		Set<String> described = new TreeSet<>();
		doc.path("paths").properties().forEach((path) -> path.getValue().properties().forEach((operation) -> {
			if (Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace").contains(operation.getKey())) {
				described.add(operation.getKey().toUpperCase() + " " + path.getKey());
			}
		}));
		assertThat(handled).as("the API's handlers (sanity check)").contains("GET /api/v1/targets",
				"GET /api/v1/incidents/{id}", "GET /api/v1/targets/{name}/preflight");
		assertThat(described).as("operations described vs handler methods of io.pglockwatch.api").isEqualTo(handled);
		assertThat(problems).as("differences between handlers and their descriptions").isEmpty();
		assertThat(doc.path("components").path("schemas").path("ProblemDetail").path("properties").path("detail")
			.isObject()).as("the ProblemDetail schema").isTrue();
	}

	@Test
	void describedValuesAreTheOnesTheApiAccepts() throws Exception {
		JsonNode doc = description();
		assertThat(enumOf(doc, "/api/v1/targets/{name}/preflight", "mode"))
			.isEqualTo(Arrays.stream(LockMode.values()).map(LockMode::pgName).toList());
		assertThat(enumOf(doc, "/api/v1/incidents", "kind"))
			.isEqualTo(Arrays.stream(IncidentKind.values()).map(IncidentKind::label).toList());
		assertThat(enumOf(doc, "/api/v1/incidents", "state")).containsExactly("open", "resolved");
		assertThat(enumOf(doc, "/api/v1/alerts", "state"))
			.isEqualTo(Arrays.stream(OutboxEntry.State.values()).map(OutboxEntry.State::label).toList());
	}

	@Test
	void eachViewHasASchemaOfItsOwn() throws Exception {
		// two records of one simple name (GraphView.Session, IncidentView.Session) must not share a schema
		JsonNode doc = description();
		JsonNode schemas = doc.path("components").path("schemas");
		assertThat(properties(schemas, schemas.path("GraphView").path("properties").path("sessions").path("items")))
			.isEqualTo(components(GraphView.Session.class));
		assertThat(properties(schemas, schemas.path("IncidentView").path("properties").path("rootBlocker")))
			.isEqualTo(components(IncidentView.Session.class));
		assertThat(properties(schemas, schemas.path("IncidentDetail").path("properties").path("incident")))
			.isEqualTo(components(IncidentView.class));
		schemas.properties().forEach((schema) -> assertThat(schema.getValue().path("description").asString(""))
			.as("description of schema " + schema.getKey())
			.isNotBlank());
	}

	@Test
	void everyCallerIsNamedAsSecurityScheme() throws Exception {
		JsonNode doc = description();
		JsonNode schemes = doc.path("components").path("securitySchemes");
		assertThat(schemes.path("apiToken").path("scheme").asString()).isEqualTo("bearer");
		assertThat(schemes.path("basic").path("scheme").asString()).isEqualTo("basic");
		assertThat(schemes.path("session").path("in").asString()).isEqualTo("cookie");
		List<String> required = new ArrayList<>();
		doc.path("security").forEach((requirement) -> requirement.propertyNames().forEach(required::add));
		assertThat(required).containsExactlyInAnyOrder("apiToken", "basic", "session");
	}

	@Test
	void theDescriptionAndSwaggerUiNeedALogin() throws Exception {
		HttpResponse<String> docs = get("/v3/api-docs", null);
		assertThat(docs.statusCode()).isEqualTo(401);
		assertThat(docs.body()).doesNotContain("/api/v1");
		assertThat(get("/v3/api-docs/swagger-config", null).statusCode()).isEqualTo(401);
		assertThat(get("/v3/api-docs.yaml", null).statusCode()).isEqualTo(401);
		assertThat(get("/v3/api-docs.yaml", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
		assertThat(get("/v3/api-docs", "Bearer not-a-token").statusCode()).isEqualTo(401);
		for (String page : List.of("/swagger-ui/index.html", "/swagger-ui.html", "/swagger-ui/swagger-initializer.js")) {
			HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(URI.create(url(page)))
				.header("Accept", "text/html")
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).as(page).isEqualTo(302);
			assertThat(response.headers().firstValue("Location")).as(page)
				.hasValueSatisfying((location) -> assertThat(location).endsWith("/login"));
		}
	}

	@Test
	void swaggerUiIsServedToAViewer() throws Exception {
		HttpResponse<String> page = get("/swagger-ui/index.html", basicViewer());
		assertThat(page.statusCode()).isEqualTo(200);
		assertThat(page.body()).contains("swagger-ui-bundle.js");
		// Swagger UI styles itself inline; its scripts, like every page's, come from the service only
		assertThat(page.headers().allValues("Content-Security-Policy")).singleElement()
			.satisfies((policy) -> assertThat(policy).contains("script-src 'self';", "style-src 'self' 'unsafe-inline';"));
		assertThat(get("/v3/api-docs/swagger-config", basicViewer()).body()).contains("/v3/api-docs");
	}

	@Test
	void swaggerUiRendersTheOperationsInABrowserUnderTheContentSecurityPolicy() throws Exception {
		try (HeadlessChromium chromium = HeadlessChromium.start(true)) {
			WebDriver browser = chromium.driver();
			browser.get(url("/swagger-ui/index.html"));
			// not logged in: the login page, then back to Swagger UI
			new WebDriverWait(browser, Duration.ofSeconds(10)).until((d) -> d.getCurrentUrl().contains("/login"));
			browser.findElement(By.name("username")).sendKeys("viewer");
			browser.findElement(By.name("password")).sendKeys(TestLogin.PASSWORD);
			browser.findElement(By.cssSelector("form button[type=submit]")).click();
			new WebDriverWait(browser, Duration.ofSeconds(20), Duration.ofMillis(200))
				.until((d) -> d.findElements(By.cssSelector(".opblock-summary-path")).size() >= 7);
			List<String> shown = browser.findElements(By.cssSelector(".opblock-summary-path"))
				.stream()
				.map((element) -> element.getAttribute("data-path"))
				.toList();
			assertThat(shown).contains("/api/v1/targets", "/api/v1/targets/{name}/graph", "/api/v1/incidents/{id}",
					"/api/v1/alerts", "/api/v1/targets/{name}/preflight");
			assertThat(browser.findElement(By.tagName("body")).getText()).contains("pg-lockwatch API");
			List<String> refused = browser.manage()
				.logs()
				.get(LogType.BROWSER)
				.getAll()
				.stream()
				.map(LogEntry::getMessage)
				.filter((message) -> message.contains("Content Security Policy"))
				.toList();
			assertThat(refused).as("what the Content-Security-Policy refused").isEmpty();
		}
	}

	private static boolean isApiHandler(HandlerMethod handler) {
		Class<?> type = handler.getBeanType();
		return type.getPackageName().equals(OpenApiDescriptionTests.class.getPackageName())
				&& AnnotatedElementUtils.hasAnnotation(type, RestController.class);
	}

	private static Set<String> paths(RequestMappingInfo info) {
		return (info.getPathPatternsCondition() != null) ? info.getPathPatternsCondition().getPatternValues()
				: info.getPatternValues();
	}

	private static void checkParameters(HandlerMethod handler, String path, RequestMethod method, JsonNode operation,
			List<String> problems) {
		Set<String> expected = new TreeSet<>();
		for (MethodParameter parameter : handler.getMethodParameters()) {
			parameter.initParameterNameDiscovery(new org.springframework.core.DefaultParameterNameDiscoverer());
			PathVariable pathVariable = parameter.getParameterAnnotation(PathVariable.class);
			RequestParam requestParam = parameter.getParameterAnnotation(RequestParam.class);
			if (pathVariable != null) {
				expected.add("path " + name(pathVariable.name(), parameter));
			}
			if (requestParam != null) {
				expected.add("query " + name(requestParam.name(), parameter));
			}
		}
		Set<String> described = new TreeSet<>();
		operation.path("parameters").forEach((parameter) -> {
			described.add(parameter.path("in").asString() + " " + parameter.path("name").asString());
			if (parameter.path("description").asString("").isBlank()) {
				problems.add(method + " " + path + ": parameter " + parameter.path("name").asString() + " has no description");
			}
		});
		if (!described.equals(expected)) {
			problems.add(method + " " + path + ": parameters described " + described + ", handler takes " + expected);
		}
	}

	private static String name(String declared, MethodParameter parameter) {
		return declared.isEmpty() ? parameter.getParameterName() : declared;
	}

	private static void checkResponses(String path, RequestMethod method, JsonNode operation, List<String> problems) {
		JsonNode responses = operation.path("responses");
		List<String> needed = new ArrayList<>(List.of("200", "401", "429", "500"));
		if (path.contains("{")) {
			needed.add("404");
		}
		operation.path("parameters").forEach((parameter) -> {
			if ("query".equals(parameter.path("in").asString()) && !needed.contains("400")) {
				needed.add("400");
			}
		});
		for (String status : needed) {
			if (!responses.has(status)) {
				problems.add(method + " " + path + ": no " + status + " response");
			}
		}
		responses.properties().forEach((response) -> {
			String status = response.getKey();
			if (response.getValue().path("description").asString("").isBlank()) {
				problems.add(method + " " + path + ": response " + status + " has no description");
			}
			if (status.startsWith("4") || status.startsWith("5")) {
				JsonNode content = response.getValue().path("content");
				if (content.size() != 1 || !PROBLEM_REF.equals(
						content.path("application/problem+json").path("schema").path("$ref").asString(""))) {
					problems.add(method + " " + path + ": response " + status + " is not a problem+json ProblemDetail");
				}
			}
			else if (status.startsWith("2") && !response.getValue().path("content").has("application/json")) {
				problems.add(method + " " + path + ": response " + status + " has no application/json content");
			}
		});
	}

	private static List<String> properties(JsonNode schemas, JsonNode property) {
		String ref = property.path("$ref").asString("");
		if (ref.isEmpty()) {
			// OpenAPI 3.1 may wrap a nullable reference: oneOf/anyOf with "null"
			for (String combination : List.of("oneOf", "anyOf", "allOf")) {
				for (JsonNode option : property.path(combination)) {
					ref = option.path("$ref").asString(ref);
				}
			}
		}
		List<String> names = new ArrayList<>();
		schemas.path(ref.substring(ref.lastIndexOf('/') + 1)).path("properties").propertyNames().forEach(names::add);
		return names.stream().sorted().toList();
	}

	private static List<String> components(Class<?> record) {
		return Arrays.stream(record.getRecordComponents()).map((c) -> c.getName()).sorted().toList();
	}

	private List<String> enumOf(JsonNode doc, String path, String parameter) {
		List<String> values = new ArrayList<>();
		doc.path("paths").path(path).path("get").path("parameters").forEach((p) -> {
			if (p.path("name").asString().equals(parameter)) {
				p.path("schema").path("enum").forEach((value) -> values.add(value.asString()));
			}
		});
		return values;
	}

	private JsonNode description() throws Exception {
		HttpResponse<String> response = get("/v3/api-docs", basicViewer());
		assertThat(response.statusCode()).isEqualTo(200);
		return this.json.readTree(response.body());
	}

	private static String basicViewer() {
		return "Basic " + Base64.getEncoder()
			.encodeToString(("viewer:" + TestLogin.PASSWORD).getBytes(StandardCharsets.UTF_8));
	}

	private String url(String path) {
		return "http://localhost:" + this.port + path;
	}

	private HttpResponse<String> get(String path, String authorization) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path))).GET();
		if (authorization != null) {
			request.header("Authorization", authorization);
		}
		return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
