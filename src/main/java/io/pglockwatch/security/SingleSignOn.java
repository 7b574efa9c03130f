package io.pglockwatch.security;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpStatus;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserRequest;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserService;
import org.springframework.security.oauth2.client.oidc.web.logout.OidcClientInitiatedLogoutSuccessHandler;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.oidc.IdTokenClaimNames;
import org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtDecoderInitializationException;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.SupplierJwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.access.AccessDeniedHandlerImpl;

/**
 * Single sign-on through an OpenID Connect provider, added to the security filter chain next to the local users and
 * static tokens: login at the provider for people, the provider's JWTs as bearer tokens on {@code /api/**} for
 * pipelines, both mapped to roles by {@link RoleClaims}; logout ends the provider's session too (RP-initiated
 * logout) when the provider offers an {@code end_session_endpoint}.
 */
final class SingleSignOn {

	/** Where a person who logged in through single sign-on with neither role is told why they see nothing. */
	static final String NO_ROLE_PATH = "/sso/no-role";

	private static final Logger logger = LoggerFactory.getLogger(SingleSignOn.class);

	private static final String VIEWER_AUTHORITY = "ROLE_" + SecurityConfiguration.VIEWER;

	private final SecurityProperties.Oidc oidc;

	private final RoleClaims roles;

	private final ClientRegistrationRepository registrations;

	private final ProblemResponses problems;

	private final OidcUserService users = new OidcUserService();

	SingleSignOn(SecurityProperties.Oidc oidc, ClientRegistrationRepository registrations, ProblemResponses problems) {
		this.oidc = oidc;
		this.roles = new RoleClaims(oidc);
		this.registrations = registrations;
		this.problems = problems;
	}

	/** Adds login, JWT bearer tokens, provider logout and the no-role page; call before the request rules. */
	void configure(HttpSecurity http) throws Exception {
		http.authorizeHttpRequests((requests) -> requests.requestMatchers(NO_ROLE_PATH).permitAll());
		http.oauth2Login((login) -> login.loginPage("/login")
			.failureUrl("/login?sso=failed")
			.clientRegistrationRepository(this.registrations)
			.userInfoEndpoint((userInfo) -> userInfo.oidcUserService(this::loadUser)));
		http.oauth2ResourceServer((resourceServer) -> resourceServer.bearerTokenResolver(jwtsOnTheApi())
			.authenticationEntryPoint(this::refuseToken)
			.jwt((jwt) -> jwt.decoder(decoder(this.oidc)).jwtAuthenticationConverter(this::authenticate)));
		OidcClientInitiatedLogoutSuccessHandler logout = new OidcClientInitiatedLogoutSuccessHandler(this.registrations);
		logout.setPostLogoutRedirectUri("{baseUrl}/login?logout");
		logout.setDefaultTargetUrl("/login?logout"); // local users, and providers without end_session_endpoint
		http.logout((config) -> config.logoutSuccessHandler(logout));
		http.exceptionHandling((errors) -> errors.accessDeniedHandler(noRoleOrDenied()));
	}

	private OidcUser loadUser(OidcUserRequest request) {
		OidcUser user = this.users.loadUser(request);
		Map<String, Object> claims = user.getClaims();
		List<GrantedAuthority> authorities = this.roles.authorities(claims);
		String nameClaim = (claims.get("preferred_username") instanceof String) ? "preferred_username"
				: IdTokenClaimNames.SUB;
		DefaultOidcUser mapped = new DefaultOidcUser(authorities, user.getIdToken(), user.getUserInfo(), nameClaim);
		if (authorities.isEmpty()) {
			logger.warn("{} logged in through single sign-on with no role: claim {} has none of "
					+ "pglockwatch.security.oidc.viewer-values or operator-values", printable(mapped.getName()),
					this.roles.claim());
		}
		return mapped;
	}

	private AbstractAuthenticationToken authenticate(Jwt jwt) {
		return new JwtAuthenticationToken(jwt, this.roles.authorities(jwt.getClaims()), "jwt:" + jwt.getSubject());
	}

	/**
	 * The provider's JWTs on the API only, as static tokens are; a static token (never a JWT in shape) is left to
	 * {@link BearerTokenFilter}.
	 */
	private static BearerTokenResolver jwtsOnTheApi() {
		DefaultBearerTokenResolver header = new DefaultBearerTokenResolver();
		return (request) -> {
			if (!request.getRequestURI().startsWith(request.getContextPath() + "/api/")) {
				return null;
			}
			String token = header.resolve(request);
			return (token != null && BearerTokenFilter.looksLikeJwt(token)) ? token : null;
		};
	}

	private void refuseToken(HttpServletRequest request, HttpServletResponse response, AuthenticationException ex)
			throws IOException {
		if (ex instanceof AuthenticationServiceException) {
			logger.warn("A JWT bearer token could not be checked: {}", ex.getMessage());
			this.problems.write(request, response, HttpStatus.SERVICE_UNAVAILABLE,
					"the keys of the OpenID Connect provider cannot be read right now; static API tokens still work");
			return;
		}
		response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
		this.problems.write(request, response, HttpStatus.UNAUTHORIZED,
				"the bearer token is neither one of pglockwatch.security.api-tokens nor a valid, unexpired JWT of "
						+ this.oidc.issuerUri());
	}

	private AccessDeniedHandler noRoleOrDenied() {
		AccessDeniedHandlerImpl noRolePage = new AccessDeniedHandlerImpl();
		noRolePage.setErrorPage(NO_ROLE_PATH);
		AccessDeniedHandler standard = new AccessDeniedHandlerImpl();
		return (request, response, ex) -> deny(request, response, ex, noRolePage, standard);
	}

	private void deny(HttpServletRequest request, HttpServletResponse response, AccessDeniedException ex,
			AccessDeniedHandler noRolePage, AccessDeniedHandler standard) throws IOException, ServletException {
		Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
		boolean noRole = authentication != null && authentication.getAuthorities()
			.stream()
			.noneMatch((authority) -> VIEWER_AUTHORITY.equals(authority.getAuthority()));
		if (noRole && authentication instanceof OAuth2AuthenticationToken) {
			noRolePage.handle(request, response, ex);
		}
		else if (noRole && authentication instanceof JwtAuthenticationToken) {
			this.problems.write(request, response, HttpStatus.FORBIDDEN, "the token's claim " + this.roles.claim()
					+ " has none of pglockwatch.security.oidc.viewer-values or operator-values");
		}
		else {
			standard.handle(request, response, ex);
		}
	}

	/**
	 * Checks signature (keys from the provider's {@code jwks_uri}), issuer and expiry, and the audience when one is
	 * configured. The provider's configuration is read on the first token, and again until it has been read once;
	 * while it cannot be read, or the keys cannot, decoding fails with a {@link JwtException} that is no
	 * {@code BadJwtException}, which the resource server reports as a service failure ({@link #refuseToken}: 503).
	 */
	static JwtDecoder decoder(SecurityProperties.Oidc oidc) {
		JwtDecoder lazy = new SupplierJwtDecoder(() -> {
			NimbusJwtDecoder decoder = NimbusJwtDecoder.withIssuerLocation(oidc.issuerUri()).build();
			List<OAuth2TokenValidator<Jwt>> validators = new ArrayList<>();
			validators.add(JwtValidators.createDefaultWithIssuer(oidc.issuerUri()));
			if (!oidc.jwtAudience().isBlank()) {
				validators.add(new JwtClaimValidator<List<String>>(JwtClaimNames.AUD,
						(audience) -> audience != null && audience.contains(oidc.jwtAudience())));
			}
			decoder.setJwtValidator(new DelegatingOAuth2TokenValidator<>(validators));
			return decoder;
		});
		return (token) -> {
			try {
				return lazy.decode(token);
			}
			catch (JwtDecoderInitializationException ex) {
				// not the token's fault: a JwtException that is no BadJwtException makes the answer a 503, not a 401
				throw new JwtException("the configuration of " + oidc.issuerUri() + " cannot be read", ex);
			}
		};
	}

	/** A name from the provider, safe for one log line. */
	private static String printable(String name) {
		String clean = (name == null) ? "?" : name.replaceAll("\\p{Cntrl}", "?");
		return (clean.length() > 64) ? clean.substring(0, 64) : clean;
	}

	/**
	 * The policy with the provider's origin added to {@code form-action}: the logout form's answer redirects to the
	 * provider's {@code end_session_endpoint}, and browsers hold a form's redirects to {@code form-action} too.
	 */
	String contentSecurityPolicy(String policy) {
		URI issuer = URI.create(this.oidc.issuerUri());
		String origin = issuer.getScheme() + "://" + issuer.getRawAuthority();
		return policy.replace("form-action 'self'", "form-action 'self' " + origin);
	}

}
