package io.pglockwatch.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates {@code Authorization: Bearer <token>} on the JSON API and its OpenAPI description against the
 * configured tokens' SHA-256, compared in constant time. A wrong token is a 401, never a fall-through to other
 * authentication, except a token shaped like a JWT while single sign-on is on: that one is left to the provider's JWT
 * check, which answers 401 itself when the JWT is not valid.
 */
final class BearerTokenFilter extends OncePerRequestFilter {

	private static final String PREFIX = "Bearer ";

	private final List<SecurityProperties.ApiToken> tokens;

	private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

	private final ProblemResponses problems;

	private final boolean jwtsChecked;

	/**
	 * @param jwtsChecked whether a JWT-shaped token that is no static token goes on to the JWT check (single sign-on
	 * on)
	 */
	BearerTokenFilter(List<SecurityProperties.ApiToken> tokens, boolean jwtsChecked, ProblemResponses problems) {
		this.tokens = tokens;
		this.jwtsChecked = jwtsChecked;
		this.problems = problems;
	}

	/** Three base64url parts joined by dots (a JWS in compact form); a static token is hex or base64, never this. */
	static boolean looksLikeJwt(String token) {
		return JWT.matcher(token).matches();
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !ApiPaths.matches(request);
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String header = request.getHeader("Authorization");
		if (header == null || !header.startsWith(PREFIX)) {
			chain.doFilter(request, response);
			return;
		}
		String token = header.substring(PREFIX.length()).trim();
		byte[] presented = sha256(token);
		SecurityProperties.ApiToken match = null;
		for (SecurityProperties.ApiToken configured : this.tokens) {
			if (MessageDigest.isEqual(presented, HexFormat.of().parseHex(configured.sha256().toLowerCase()))) {
				match = configured;
			}
		}
		if (match == null && this.jwtsChecked && looksLikeJwt(token)) {
			chain.doFilter(request, response);
			return;
		}
		if (match == null) {
			this.problems.write(request, response, HttpStatus.UNAUTHORIZED,
					"the bearer token matches none of pglockwatch.security.api-tokens");
			return;
		}
		List<SimpleGrantedAuthority> authorities = (match.role() == SecurityProperties.Role.OPERATOR)
				? List.of(new SimpleGrantedAuthority("ROLE_VIEWER"), new SimpleGrantedAuthority("ROLE_OPERATOR"))
				: List.of(new SimpleGrantedAuthority("ROLE_VIEWER"));
		var authentication = UsernamePasswordAuthenticationToken.authenticated("token:" + match.name(), null, authorities);
		var context = SecurityContextHolder.createEmptyContext();
		context.setAuthentication(authentication);
		SecurityContextHolder.setContext(context);
		try {
			chain.doFilter(request, response);
		}
		finally {
			SecurityContextHolder.clearContext();
		}
	}

	private static byte[] sha256(String token) {
		try {
			return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
