package io.pglockwatch.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses a login attempt (form post or HTTP Basic) for a user or from an address that failed too often: 429 with
 * {@code Retry-After}, before the password is even checked, so guessing is slowed and bcrypt is not spent on it
 * ({@link LoginThrottle} decides, {@link LoginFailureLog} logs and counts).
 */
final class LoginGuard extends OncePerRequestFilter {

	private static final String BASIC = "Basic ";

	private final LoginThrottle throttle;

	private final LoginFailureLog failures;

	private final ProblemResponses problems;

	LoginGuard(LoginThrottle throttle, LoginFailureLog failures, ProblemResponses problems) {
		this.throttle = throttle;
		this.failures = failures;
		this.problems = problems;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String user = attemptedUser(request);
		if (user != null) {
			Duration wait = this.throttle.blockedFor(user, request.getRemoteAddr());
			if (!wait.isZero()) {
				this.failures.throttled(user, request.getRemoteAddr(), seconds(wait));
				refuse(request, response, wait);
				return;
			}
		}
		chain.doFilter(request, response);
	}

	/** The user name of a login attempt (form post or Basic header); null when the request is none. */
	private static String attemptedUser(HttpServletRequest request) {
		String header = request.getHeader("Authorization");
		if (header != null && header.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
			try {
				String decoded = new String(Base64.getDecoder().decode(header.substring(BASIC.length()).trim()),
						StandardCharsets.UTF_8);
				int colon = decoded.indexOf(':');
				return (colon < 0) ? decoded : decoded.substring(0, colon);
			}
			catch (IllegalArgumentException ex) {
				return ""; // not base64: Spring Security answers 401; the address still counts
			}
		}
		if ("POST".equals(request.getMethod())
				&& (request.getContextPath() + "/login").equals(request.getRequestURI())) {
			String user = request.getParameter("username");
			return (user == null) ? "" : user;
		}
		return null;
	}

	private void refuse(HttpServletRequest request, HttpServletResponse response, Duration wait)
			throws IOException {
		long seconds = seconds(wait);
		response.setHeader("Retry-After", Long.toString(seconds));
		String detail = "too many failed logins for this user or from this address; try again in " + seconds + " s";
		if (request.getRequestURI().startsWith(request.getContextPath() + "/api/")
				|| request.getHeader("Authorization") != null) {
			this.problems.write(request, response, HttpStatus.TOO_MANY_REQUESTS, detail);
		}
		else {
			response.sendError(429, detail);
		}
	}

	private static long seconds(Duration wait) {
		return Math.max(1, (wait.toMillis() + 999) / 1000);
	}

}
