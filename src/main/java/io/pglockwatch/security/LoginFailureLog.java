package io.pglockwatch.security;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.event.EventListener;
import org.springframework.security.authentication.event.AbstractAuthenticationFailureEvent;
import org.springframework.security.authentication.event.AuthenticationSuccessEvent;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.authentication.WebAuthenticationDetails;

/**
 * Failed logins, form or HTTP Basic: each is logged at WARN with the user name and client address (never the
 * password) and counted as {@code pglockwatch_login_failures_total{reason="bad-credentials"}}; attempts refused by
 * the throttle are logged and counted with {@code reason="throttled"}. Spring Security's authentication events feed
 * the throttle.
 */
final class LoginFailureLog {

	private static final Logger logger = LoggerFactory.getLogger(LoginFailureLog.class);

	private final LoginThrottle throttle;

	private final Counter badCredentials;

	private final Counter throttled;

	LoginFailureLog(LoginThrottle throttle, MeterRegistry registry) {
		this.throttle = throttle;
		this.badCredentials = counter(registry, "bad-credentials");
		this.throttled = counter(registry, "throttled");
	}

	private static Counter counter(MeterRegistry registry, String reason) {
		return Counter.builder("pglockwatch.login.failures")
			.description("Failed logins (form or HTTP Basic) since startup, by reason: bad-credentials (wrong user "
					+ "or password) or throttled (refused with 429 after repeated failures)")
			.tag("reason", reason)
			.register(registry);
	}

	void throttled(String user, String address, long retryAfterSeconds) {
		this.throttled.increment();
		logger.warn("Login refused for user '{}' from {}: too many failed logins, retry in {} s", printable(user),
				address, retryAfterSeconds);
	}

	@EventListener
	void onFailure(AbstractAuthenticationFailureEvent event) {
		Authentication attempt = event.getAuthentication();
		String address = address(attempt);
		String user = attempt.getName();
		this.throttle.failed(user, address);
		this.badCredentials.increment();
		logger.warn("Failed login for user '{}' from {}: {}", printable(user), address,
				event.getException().getClass().getSimpleName());
	}

	@EventListener
	void onSuccess(AuthenticationSuccessEvent event) {
		Authentication login = event.getAuthentication();
		this.throttle.succeeded(login.getName(), address(login));
	}

	private static String address(Authentication authentication) {
		return (authentication.getDetails() instanceof WebAuthenticationDetails details) ? details.getRemoteAddress()
				: null;
	}

	/** A user name as typed by anyone: no line breaks or control characters in our log, and not too long. */
	static String printable(String user) {
		if (user == null) {
			return "";
		}
		StringBuilder out = new StringBuilder(Math.min(user.length(), 64));
		for (int i = 0; i < user.length() && out.length() < 64; i++) {
			char c = user.charAt(i);
			out.append(Character.isISOControl(c) ? '?' : c);
		}
		return out.toString();
	}

}
