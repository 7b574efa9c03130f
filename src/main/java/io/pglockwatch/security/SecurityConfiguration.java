package io.pglockwatch.security;

import java.time.Clock;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.HttpStatusEntryPoint;
import org.springframework.security.web.authentication.UsernamePasswordAuthenticationFilter;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.header.writers.ContentSecurityPolicyHeaderWriter;
import org.springframework.security.web.header.writers.DelegatingRequestMatcherHeaderWriter;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter.ReferrerPolicy;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * Login for the dashboard (form) and the JSON API (HTTP Basic, or a bearer token for pipelines), users from
 * configuration with bcrypt hashes; with single sign-on on, also login at an OpenID Connect provider and its JWTs as
 * bearer tokens ({@link SingleSignOn}).
 * Health and Prometheus stay reachable without login for probes and scrapers (put them on
 * {@code management.server.port} to keep them off the public port). CSRF protects every state change.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication
public class SecurityConfiguration {

	static final String VIEWER = "VIEWER";

	static final String OPERATOR = "OPERATOR";

	/**
	 * No inline script, no script from elsewhere: relation, application and user names and query text come from
	 * whoever can create a table or open a session, and are shown on these pages. Should a template ever slip, the
	 * browser still runs none of it. Pages are never framed (clickjacking).
	 */
	static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
			+ "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

	/**
	 * Swagger UI (springdoc's, served from its jar) applies inline styles as it renders; its scripts stay 'self'. It
	 * shows only the API description and the API's own answers, which it renders as text.
	 */
	static final String SWAGGER_UI_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self';",
			"style-src 'self' 'unsafe-inline';");

	@Bean
	PasswordEncoder passwordEncoder(ObjectProvider<Clock> clock) {
		return new PasswordVerifier(new BCryptPasswordEncoder(), clock.getIfAvailable(Clock::systemUTC));
	}

	@Bean
	UserDetailsService users(SecurityProperties security) {
		List<UserDetails> users = security.users()
			.stream()
			.map((u) -> User.withUsername(u.name())
				.password(u.passwordHash())
				.roles(u.role() == SecurityProperties.Role.OPERATOR ? new String[] { VIEWER, OPERATOR }
						: new String[] { VIEWER })
				.build())
			.toList();
		return new InMemoryUserDetailsManager(users);
	}

	@Bean
	ProblemResponses problemResponses(JsonMapper json) {
		return new ProblemResponses(json);
	}

	@Bean
	FilterRegistrationBean<RequestHygieneFilter> requestHygieneFilter(ProblemResponses problems) {
		// ahead of everything, security included: these requests never get far enough to fail loudly
		FilterRegistrationBean<RequestHygieneFilter> registration = new FilterRegistrationBean<>(
				new RequestHygieneFilter(problems));
		registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
		return registration;
	}

	@Bean
	LoginThrottle loginThrottle(ObjectProvider<Clock> clock) {
		return new LoginThrottle(clock.getIfAvailable(Clock::systemUTC));
	}

	@Bean
	LoginFailureLog loginFailureLog(LoginThrottle throttle, ObjectProvider<MeterRegistry> registry) {
		// web test slices have no meter registry; the service always has one
		return new LoginFailureLog(throttle, registry.getIfAvailable(SimpleMeterRegistry::new));
	}

	@Bean
	SecurityFilterChain securityFilterChain(HttpSecurity http, SecurityProperties security, LoginThrottle throttle,
			LoginFailureLog failures, ProblemResponses problems, ObjectProvider<SingleSignOn> singleSignOn)
			throws Exception {
		SingleSignOn sso = singleSignOn.getIfAvailable();
		if (sso != null) {
			sso.configure(http); // first: its page for people without a role comes before the rules below
		}
		RequestMatcher api = ApiPaths::matches;
		http.authorizeHttpRequests((requests) -> {
			requests.requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/prometheus", "/login",
					"/webjars/**", "/css/**", "/js/**", "/favicon.ico", "/error")
				.permitAll();
			if (security.loginRequired()) {
				requests.requestMatchers(HttpMethod.POST, "/incidents/**").hasRole(OPERATOR);
				// actuator endpoints beyond health, info and metrics show configuration (env, configprops, loggers,
				// ...) or change it (POST /actuator/loggers/...): operators only, whatever is exposed
				requests.requestMatchers("/actuator/info").hasRole(VIEWER);
				requests.requestMatchers("/actuator", "/actuator/**").hasRole(OPERATOR);
				requests.anyRequest().hasRole(VIEWER);
			}
			else {
				requests.anyRequest().permitAll();
			}
		});
		http.addFilterBefore(new BearerTokenFilter(security.apiTokens(), sso != null, problems),
				BasicAuthenticationFilter.class);
		http.addFilterBefore(new LoginGuard(throttle, failures, problems), UsernamePasswordAuthenticationFilter.class);
		// CSRF guards the cookie session of the pages. A request that authenticates itself (Basic or bearer, as curl
		// and pipelines do, e.g. an operator's POST /actuator/loggers/...) carries no cookie a foreign page could
		// borrow, and browsers never cache Basic credentials here: the API answers 401 without a Basic challenge.
		http.csrf((csrf) -> csrf.ignoringRequestMatchers((request) -> request.getHeader("Authorization") != null));
		RequestMatcher swaggerUi = PathPatternRequestMatcher.withDefaults().matcher("/swagger-ui/**");
		String policy = (sso != null) ? sso.contentSecurityPolicy(CONTENT_SECURITY_POLICY) : CONTENT_SECURITY_POLICY;
		String swaggerUiPolicy = (sso != null) ? sso.contentSecurityPolicy(SWAGGER_UI_CONTENT_SECURITY_POLICY)
				: SWAGGER_UI_CONTENT_SECURITY_POLICY;
		// the first policy that matches is written; a later writer sees the header and leaves it
		http.headers((headers) -> headers
			.addHeaderWriter(new DelegatingRequestMatcherHeaderWriter(swaggerUi,
					new ContentSecurityPolicyHeaderWriter(swaggerUiPolicy)))
			.addHeaderWriter(new ContentSecurityPolicyHeaderWriter(policy))
			.referrerPolicy((referrer) -> referrer.policy(ReferrerPolicy.SAME_ORIGIN))
			.frameOptions((frames) -> frames.deny()));
		http.formLogin((form) -> form.loginPage("/login").permitAll());
		http.httpBasic(Customizer.withDefaults());
		http.logout((logout) -> logout.logoutSuccessUrl("/login?logout"));
		// API clients get a 401 to react to, not a redirect to a login page
		http.exceptionHandling((errors) -> errors
			.defaultAuthenticationEntryPointFor(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED), api));
		return http.build();
	}

}
