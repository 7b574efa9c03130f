package io.pglockwatch.security;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The JSON API and its OpenAPI description ({@code /v3/api-docs}, springdoc's default path): there a bearer token
 * counts, and a caller without credentials gets a 401 rather than the login page. Swagger UI is a page, behind the
 * form login like the dashboard.
 */
final class ApiPaths {

	private ApiPaths() {
	}

	static boolean matches(HttpServletRequest request) {
		String path = request.getRequestURI().substring(request.getContextPath().length());
		// /v3/api-docs, /v3/api-docs.yaml, /v3/api-docs/swagger-config
		return path.startsWith("/api/") || path.startsWith("/v3/api-docs");
	}

}
