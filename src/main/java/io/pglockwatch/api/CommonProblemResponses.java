package io.pglockwatch.api;

import java.math.BigDecimal;

import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.springdoc.core.customizers.OperationCustomizer;

import org.springframework.web.method.HandlerMethod;

/**
 * The error responses of every operation, so that the controllers declare only their own (404 for an unknown name,
 * 503 when what they read is unavailable): 400 when the operation takes query parameters ({@link ApiErrors} and the
 * controllers refuse a bad one), 401 and 429 from the login, 500 from {@link ApiErrors}. Every error response is
 * {@code application/problem+json} with the {@code ProblemDetail} schema.
 */
final class CommonProblemResponses implements OperationCustomizer {

	static final String PROBLEM_JSON = "application/problem+json";

	@Override
	public Operation customize(Operation operation, HandlerMethod handlerMethod) {
		ApiResponses responses = operation.getResponses();
		boolean takesQueryParameters = operation.getParameters() != null
				&& operation.getParameters().stream().anyMatch((p) -> "query".equals(p.getIn()));
		if (takesQueryParameters) {
			responses.putIfAbsent("400", new ApiResponse().description(
					"A query parameter is invalid (an unknown value, a number out of range, a wrong combination); "
							+ "detail says which and what it accepts."));
		}
		responses.putIfAbsent("401", new ApiResponse().description(
				"Not logged in, or the credentials are wrong (login is required unless "
						+ "pglockwatch.security.login-required is false). A wrong bearer token is answered with a "
						+ "problem; a request with no credentials may have an empty body."));
		responses.putIfAbsent("429", new ApiResponse()
			.description("Too many failed logins for this user or from this address; try again after Retry-After.")
			.addHeaderObject("Retry-After",
					new Header().description("seconds to wait").schema(new IntegerSchema().minimum(BigDecimal.ONE))));
		responses.putIfAbsent("500", new ApiResponse()
			.description("pg-lockwatch failed to answer; the service log has the details (detail does not)."));
		responses.forEach((status, response) -> {
			if (status.startsWith("4") || status.startsWith("5")) {
				response.setContent(new Content().addMediaType(PROBLEM_JSON, new MediaType()
					.schema(new Schema<>().$ref("#/components/schemas/" + OpenApiConfiguration.PROBLEM_DETAIL))));
			}
		});
		return operation;
	}

}
