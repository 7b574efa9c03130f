package io.pglockwatch.security;

import java.util.List;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
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
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * Login for the dashboard (form) and the JSON API (HTTP Basic, or a bearer token for pipelines), users from
 * configuration with bcrypt hashes.
 * Health and Prometheus stay reachable without login for probes and scrapers (put them on
 * {@code management.server.port} to keep them off the public port). CSRF protects every state change.
 */
@Configuration(proxyBeanMethods = false)
@org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication
public class SecurityConfiguration {

	static final String VIEWER = "VIEWER";

	static final String OPERATOR = "OPERATOR";

	@Bean
	PasswordEncoder passwordEncoder() {
		return new BCryptPasswordEncoder();
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
	SecurityFilterChain securityFilterChain(HttpSecurity http, SecurityProperties security) throws Exception {
		RequestMatcher api = (request) -> request.getRequestURI().startsWith(request.getContextPath() + "/api/");
		http.authorizeHttpRequests((requests) -> {
			requests.requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/prometheus", "/login",
					"/webjars/**", "/css/**", "/favicon.ico", "/error")
				.permitAll();
			if (security.loginRequired()) {
				requests.requestMatchers(HttpMethod.POST, "/incidents/**").hasRole(OPERATOR);
				requests.anyRequest().hasRole(VIEWER);
			}
			else {
				requests.anyRequest().permitAll();
			}
		});
		http.addFilterBefore(new BearerTokenFilter(security.apiTokens()),
				BasicAuthenticationFilter.class);
		http.formLogin((form) -> form.loginPage("/login").permitAll());
		http.httpBasic(Customizer.withDefaults());
		http.logout((logout) -> logout.logoutSuccessUrl("/login?logout"));
		// API clients get a 401 to react to, not a redirect to a login page
		http.exceptionHandling((errors) -> errors
			.defaultAuthenticationEntryPointFor(new HttpStatusEntryPoint(HttpStatus.UNAUTHORIZED), api));
		return http.build();
	}

}
