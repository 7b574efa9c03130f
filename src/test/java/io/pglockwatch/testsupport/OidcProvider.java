package io.pglockwatch.testsupport;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.util.matcher.MediaTypeRequestMatcher;

/**
 * A real OpenID Connect provider for the single sign-on tests: Spring Authorization Server in an application context
 * of its own, on a random port of 127.0.0.1 (the issuer is {@code http://127.0.0.1:<port>}: the provider accepts
 * loopback redirects only on an IP address, so the service and the browser use 127.0.0.1 too). It knows pg-lockwatch
 * as a client (authorization code, client_secret_basic), two pipelines (client credentials), and three people with
 * the password {@link #PASSWORD}; the ID token and the access token carry their {@code groups}.
 */
public final class OidcProvider implements AutoCloseable {

	public static final String CLIENT_ID = "pg-lockwatch";

	public static final String CLIENT_SECRET = "client secret of pg-lockwatch";

	/** A pipeline in {@link #VIEWERS}. */
	public static final String PIPELINE = "deploy-pipeline";

	/** A pipeline in no group pg-lockwatch knows. */
	public static final String UNMAPPED_PIPELINE = "reporting-job";

	/** A pipeline's secret (the provider wants each client's secret to be its own). */
	public static String pipelineSecret(String clientId) {
		return "secret of " + clientId;
	}

	public static final String PASSWORD = "provider password";

	public static final String VIEWERS = "sre-viewers";

	public static final String OPERATORS = "sre-operators";

	/** The groups of each person and pipeline, as the provider's directory has them. */
	public static final Map<String, List<String>> GROUPS = Map.of("vera", List.of("staff", VIEWERS), "otto",
			List.of(OPERATORS), "nora", List.of("staff", "finance"), PIPELINE, List.of(VIEWERS), UNMAPPED_PIPELINE,
			List.of("reporting"));

	private static final String KEY_ID = "provider-key";

	private final ConfigurableApplicationContext context;

	private final String issuer;

	private OidcProvider(ConfigurableApplicationContext context) {
		this.context = context;
		this.issuer = "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
	}

	/** Starts the provider for a pg-lockwatch that will listen on this port of 127.0.0.1. */
	public static OidcProvider start(int servicePort) {
		String service = "http://127.0.0.1:" + servicePort;
		ConfigurableApplicationContext context = new SpringApplicationBuilder(Provider.class)
			.properties(Map.of("pglockwatch.test.service-url", service))
			.run("--server.port=0", "--server.address=127.0.0.1",
					// none of pg-lockwatch's application.yaml or its tests' config/application.properties
					"--spring.config.name=oidc-provider", "--spring.flyway.enabled=false",
					"--spring.main.banner-mode=off",
					// the browser keeps cookies per host, not per port: the provider's session must not overwrite
					// pg-lockwatch's JSESSIONID on 127.0.0.1
					"--server.servlet.session.cookie.name=PROVIDER_SESSION");
		return new OidcProvider(context);
	}

	public String issuer() {
		return this.issuer;
	}

	/** An access token of a pipeline, from the token endpoint (client credentials grant). */
	public String clientCredentialsToken(String clientId) throws Exception {
		String basic = Base64.getEncoder()
			.encodeToString((clientId + ":" + pipelineSecret(clientId)).getBytes(StandardCharsets.UTF_8));
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create(this.issuer + "/oauth2/token"))
				.header("Authorization", "Basic " + basic)
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
				.build(), HttpResponse.BodyHandlers.ofString());
		if (response.statusCode() != 200) {
			throw new IllegalStateException("token endpoint answered " + response.statusCode() + ": " + response.body());
		}
		return JsonMapper.builder().build().readTree(response.body()).get("access_token").asString();
	}

	/**
	 * A JWT as a pipeline's access token would be, for the subject and groups given, signed with the provider's own
	 * key, issued 15 minutes before it expires at {@code expiresAt}.
	 */
	public String signedToken(String subject, List<String> groups, Instant expiresAt) {
		return encode(this.context.getBean(RSAKey.class), subject, groups, expiresAt);
	}

	/** The same, signed with a key of the same id that the provider never published. */
	public String forgedToken(String subject, List<String> groups, Instant expiresAt) {
		return encode(rsaKey(), subject, groups, expiresAt);
	}

	private String encode(RSAKey key, String subject, List<String> groups, Instant expiresAt) {
		JwtClaimsSet claims = JwtClaimsSet.builder()
			.issuer(this.issuer)
			.subject(subject)
			.audience(List.of(subject))
			.issuedAt(expiresAt.minus(Duration.ofMinutes(15)))
			.notBefore(expiresAt.minus(Duration.ofMinutes(15)))
			.expiresAt(expiresAt)
			.claim("groups", groups)
			.build();
		JwsHeader header = JwsHeader.with(SignatureAlgorithm.RS256).keyId(KEY_ID).build();
		return new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key))).encode(JwtEncoderParameters.from(header, claims))
			.getTokenValue();
	}

	@Override
	public void close() {
		this.context.close();
	}

	private static RSAKey rsaKey() {
		try {
			KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
			generator.initialize(2048);
			KeyPair pair = generator.generateKeyPair();
			return new RSAKey.Builder((RSAPublicKey) pair.getPublic()).privateKey((RSAPrivateKey) pair.getPrivate())
				.keyID(KEY_ID)
				.build();
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * The provider's beans. Not a {@code @Configuration}: pg-lockwatch's own component scan covers this package, and
	 * must not pick the provider up.
	 */
	@EnableAutoConfiguration
	static class Provider {

		@Bean
		@Order(1)
		SecurityFilterChain authorizationServer(HttpSecurity http) throws Exception {
			http.oauth2AuthorizationServer((server) -> {
				http.securityMatcher(server.getEndpointsMatcher());
				server.oidc(Customizer.withDefaults());
			});
			http.authorizeHttpRequests((requests) -> requests.anyRequest().authenticated());
			// a browser without a provider session is sent to the provider's login form
			http.exceptionHandling((errors) -> errors.defaultAuthenticationEntryPointFor(
					new LoginUrlAuthenticationEntryPoint("/login"), new MediaTypeRequestMatcher(MediaType.TEXT_HTML)));
			// the user info endpoint takes the access token
			http.oauth2ResourceServer((resourceServer) -> resourceServer.jwt(Customizer.withDefaults()));
			return http.build();
		}

		@Bean
		@Order(2)
		SecurityFilterChain loginForm(HttpSecurity http) throws Exception {
			http.authorizeHttpRequests((requests) -> requests.anyRequest().authenticated());
			http.formLogin(Customizer.withDefaults());
			return http.build();
		}

		@Bean
		UserDetailsService people() {
			return new InMemoryUserDetailsManager(List.of("vera", "otto", "nora")
				.stream()
				.map((name) -> User.withUsername(name).password("{noop}" + PASSWORD).roles("USER").build())
				.toList());
		}

		@Bean
		RegisteredClientRepository clients(org.springframework.core.env.Environment environment) {
			String service = environment.getRequiredProperty("pglockwatch.test.service-url");
			RegisteredClient pgLockwatch = RegisteredClient.withId(UUID.randomUUID().toString())
				.clientId(CLIENT_ID)
				.clientSecret("{noop}" + CLIENT_SECRET)
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
				.authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
				.authorizationGrantType(AuthorizationGrantType.REFRESH_TOKEN)
				.redirectUri(service + "/login/oauth2/code/sso")
				.postLogoutRedirectUri(service + "/login?logout")
				.scope(OidcScopes.OPENID)
				.scope(OidcScopes.PROFILE)
				.clientSettings(ClientSettings.builder().requireAuthorizationConsent(false).build())
				.build();
			return new InMemoryRegisteredClientRepository(pgLockwatch, pipeline(PIPELINE), pipeline(UNMAPPED_PIPELINE));
		}

		private static RegisteredClient pipeline(String clientId) {
			return RegisteredClient.withId(UUID.randomUUID().toString())
				.clientId(clientId)
				.clientSecret("{noop}" + pipelineSecret(clientId))
				.clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
				.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
				.build();
		}

		@Bean
		OAuth2TokenCustomizer<JwtEncodingContext> groupsClaim() {
			return (context) -> {
				boolean idToken = OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue());
				boolean accessToken = OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType());
				List<String> groups = GROUPS.get(context.getPrincipal().getName());
				if ((idToken || accessToken) && groups != null) {
					context.getClaims().claim("groups", groups);
				}
			};
		}

		@Bean
		RSAKey signingKey() {
			return rsaKey();
		}

		@Bean
		JWKSource<SecurityContext> jwkSource(RSAKey signingKey) {
			return new ImmutableJWKSet<>(new JWKSet(signingKey));
		}

		@Bean
		JwtDecoder jwtDecoder(RSAKey signingKey) throws Exception {
			return NimbusJwtDecoder.withPublicKey(signingKey.toRSAPublicKey()).build();
		}

		@Bean
		AuthorizationServerSettings authorizationServerSettings() {
			// no fixed issuer: it is taken from the request, http://127.0.0.1:<port>
			return AuthorizationServerSettings.builder().build();
		}

	}

}
