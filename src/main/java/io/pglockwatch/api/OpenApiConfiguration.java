package io.pglockwatch.api;

import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI description of the JSON API, served at {@code /v3/api-docs} with Swagger UI at
 * {@code /swagger-ui/index.html} (both behind the login, like the API). springdoc builds it from the controllers of
 * this package ({@code springdoc.packages-to-scan} in application.yaml); this adds what the controllers cannot say
 * themselves: who may call, and the problem responses that every operation shares
 * ({@link CommonProblemResponses}).
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

	static final String BEARER = "apiToken";

	static final String BASIC = "basic";

	static final String SESSION = "session";

	static final String PROBLEM_DETAIL = "ProblemDetail";

	@Bean
	OpenAPI pgLockwatchApi(ObjectProvider<BuildProperties> build) {
		BuildProperties properties = build.getIfAvailable();
		String version = (properties != null) ? properties.getVersion() : "development";
		return new OpenAPI()
			.info(new Info().title("pg-lockwatch API")
				.version(version)
				.description("""
						PostgreSQL lock queues as pg-lockwatch sees them: every target's state, its live lock-wait \
						graph, incident history, alert events, and preflight (would this DDL queue now?). Every \
						endpoint is a GET and reads the latest poll, except preflight, which reads the target live. \
						Every field of an answer is always present, null when unknown. Errors are \
						application/problem+json (RFC 9457). Field by field: docs/api.md."""))
			.components(new Components().addSecuritySchemes(BEARER, bearerToken())
				.addSecuritySchemes(BASIC, basic())
				.addSecuritySchemes(SESSION, session())
				.addSchemas(PROBLEM_DETAIL, problemDetail()))
			// any one of them will do, for every operation
			.security(List.of(new SecurityRequirement().addList(BEARER), new SecurityRequirement().addList(BASIC),
					new SecurityRequirement().addList(SESSION)));
	}

	@Bean
	OperationCustomizer commonProblemResponses() {
		return new CommonProblemResponses();
	}

	/**
	 * Describes the records that preflight answers with: they belong to the preflight package, which stays free of
	 * the API's annotations.
	 */
	@Bean
	OpenApiCustomizer preflightSchemas() {
		return (openApi) -> {
			Map<String, Schema> schemas = openApi.getComponents().getSchemas();
			describe(schemas.get("RelationCheck"), "A relation that preflight checked, with the mode asked for on it");
			describe(schemas.get("Conflict"), "A session or prepared transaction in the way: holding or waiting for a "
					+ "conflicting lock, or (in olderTransactions) an older open transaction");
		};
	}

	private static void describe(Schema<?> schema, String description) {
		if (schema != null && schema.getDescription() == null) {
			schema.setDescription(description);
		}
	}

	private static SecurityScheme bearerToken() {
		return new SecurityScheme().type(SecurityScheme.Type.HTTP)
			.scheme("bearer")
			.description("""
					A static API token for pipelines (Authorization: Bearer <token>), configured by its SHA-256 in \
					pglockwatch.security.api-tokens with the role viewer or operator. The token is opaque, not a \
					JWT (JWT access tokens may be accepted later).""");
	}

	private static SecurityScheme basic() {
		return new SecurityScheme().type(SecurityScheme.Type.HTTP)
			.scheme("basic")
			.description("A user of pglockwatch.security.users and its password. Failed logins are throttled (429).");
	}

	private static SecurityScheme session() {
		return new SecurityScheme().type(SecurityScheme.Type.APIKEY)
			.in(SecurityScheme.In.COOKIE)
			.name("JSESSIONID")
			.description("The session of a user logged in through the dashboard's login form (/login), as Swagger UI "
					+ "uses it.");
	}

	/** Spring's {@link org.springframework.http.ProblemDetail} as the API serializes it. */
	private static Schema<?> problemDetail() {
		return new ObjectSchema().description("An error, RFC 9457 (application/problem+json); the cause is in detail.")
			.addProperty("type", new StringSchema().format("uri-reference")
				.description("always about:blank (omitted): the status says what kind of problem it is"))
			.addProperty("title", new StringSchema().description("the HTTP status phrase, e.g. Not Found"))
			.addProperty("status", new IntegerSchema().description("the HTTP status code"))
			.addProperty("detail", new StringSchema().description("what went wrong, for a person to read"))
			.addProperty("instance", new StringSchema().format("uri-reference").description("the request path"))
			.required(List.of("title", "status"));
	}

}
