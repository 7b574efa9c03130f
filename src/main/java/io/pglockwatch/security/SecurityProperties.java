package io.pglockwatch.security;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Login to the dashboard and the JSON API ({@code pglockwatch.security.*}). Health and Prometheus endpoints stay
 * open for probes and scrapers.
 *
 * @param loginRequired when false, everyone may see and do everything (the demo does this, and says so)
 * @param users who may log in; at least one while login is required
 * @param apiTokens bearer tokens for pipelines calling the JSON API
 * @param oidc single sign-on through an OpenID Connect provider, for people and pipelines; off while its issuer URI
 * is empty
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.security", ignoreUnknownFields = false)
public record SecurityProperties(@DefaultValue("true") boolean loginRequired, List<@Valid User> users,
		List<@Valid ApiToken> apiTokens, @Valid @DefaultValue Oidc oidc) {

	public SecurityProperties {
		users = (users == null) ? List.of() : List.copyOf(users);
		apiTokens = (apiTokens == null) ? List.of() : List.copyOf(apiTokens);
	}

	@AssertTrue(message = "user names must be unique (pglockwatch.security.users[*].name)")
	boolean isUserNamesUnique() {
		Set<String> seen = new HashSet<>();
		return this.users.stream().map(User::name).filter((name) -> name != null).allMatch(seen::add);
	}

	@AssertTrue(message = "pglockwatch.security.users must name at least one user while "
			+ "pglockwatch.security.login-required is true and single sign-on is off "
			+ "(pglockwatch.security.oidc.issuer-uri empty; see docs/configuration.md#login)")
	boolean isUsersConfiguredWhenLoginRequired() {
		return !this.loginRequired || !this.users.isEmpty() || this.oidc.enabled();
	}

	/**
	 * A bearer token for pipelines calling the JSON API ({@code Authorization: Bearer <token>}), e.g. preflight from
	 * a deploy job. Only the token's SHA-256 is configured: a random token of 32+ bytes needs no slow hash.
	 *
	 * @param name who uses it, for the logs
	 * @param sha256 hex SHA-256 of the token ({@code printf %s "$TOKEN" | sha256sum})
	 * @param role viewer or operator
	 */
	public record ApiToken(@NotNull(message = "must be set") @Pattern(regexp = "[A-Za-z0-9._@-]{1,64}", message = "must be 1-64 letters, digits or ._@-") String name,
			@NotNull(message = "must be set") @Pattern(regexp = "[0-9a-fA-F]{64}", message = "must be the 64 hex digits of the token's SHA-256, not the token") String sha256,
			@NotNull(message = "must be viewer or operator") Role role) {

		@Override
		public String toString() {
			return "ApiToken[name=" + this.name + ", role=" + this.role + "]";
		}

	}

	/**
	 * @param name the login name
	 * @param passwordHash a bcrypt hash of the password ({@code $2a$10$...}), never the password itself
	 * @param role viewer (read) or operator (read, and act: cancel a queued DDL)
	 */
	public record User(@NotNull(message = "must be set") @Pattern(regexp = "[A-Za-z0-9._@-]{1,64}", message = "must be 1-64 letters, digits or ._@-") String name,
			@NotNull(message = "must be set") @Pattern(regexp = "\\$2[aby]?\\$\\d{2}\\$[./A-Za-z0-9]{53}", message = "must be a bcrypt hash such as $2a$10$..., not a password") String passwordHash,
			@NotNull(message = "must be viewer or operator") Role role) {

		@Override
		public String toString() {
			return "User[name=" + this.name + ", role=" + this.role + "]";
		}

	}

	/**
	 * Single sign-on through an OpenID Connect provider: people log in at the provider (authorization code flow),
	 * pipelines send the provider's JWT access tokens as bearer tokens on the JSON API. Both get their role from the
	 * same claim. Off while {@code issuerUri} is empty.
	 *
	 * @param issuerUri the provider's issuer ({@code https://login.example.com/realms/sre}); its
	 * {@code /.well-known/openid-configuration} is read on the first login or JWT, not at startup
	 * @param clientId the client id registered at the provider for pg-lockwatch
	 * @param clientSecret the client's secret (client_secret_basic). A secret: never logged or shown
	 * @param roleClaim the claim of the ID token, user info or JWT that lists the user's groups or roles; a dotted
	 * path reaches into nested objects ({@code realm_access.roles})
	 * @param viewerValues claim values that make a viewer
	 * @param operatorValues claim values that make an operator (who is a viewer too)
	 * @param scopes the scopes asked for at login; {@code openid} is required
	 * @param jwtAudience when set, a JWT bearer token must name this audience ({@code aud}); when empty any
	 * audience is accepted
	 */
	public record Oidc(
			@Pattern(regexp = "(https?://.+)?", message = "must be the provider's http(s) issuer URL, or empty for single sign-on off") @DefaultValue("") String issuerUri,
			@DefaultValue("") String clientId, @DefaultValue("") String clientSecret,
			@NotBlank(message = "must name a claim") @DefaultValue("groups") String roleClaim,
			List<String> viewerValues, List<String> operatorValues,
			@DefaultValue({ "openid", "profile", "email" }) List<String> scopes, @DefaultValue("") String jwtAudience) {

		public Oidc {
			viewerValues = (viewerValues == null) ? List.of() : List.copyOf(viewerValues);
			operatorValues = (operatorValues == null) ? List.of() : List.copyOf(operatorValues);
			scopes = (scopes == null) ? List.of() : List.copyOf(scopes);
		}

		/** Whether single sign-on is on: an issuer is configured. */
		public boolean enabled() {
			return this.issuerUri != null && !this.issuerUri.isBlank();
		}

		@AssertTrue(message = "pglockwatch.security.oidc.client-id and pglockwatch.security.oidc.client-secret must be "
				+ "set while pglockwatch.security.oidc.issuer-uri is set")
		boolean isClientSetWhenEnabled() {
			return !enabled() || (notBlank(this.clientId) && notBlank(this.clientSecret));
		}

		@AssertTrue(message = "pglockwatch.security.oidc.viewer-values or pglockwatch.security.oidc.operator-values "
				+ "must name at least one value while pglockwatch.security.oidc.issuer-uri is set: otherwise nobody "
				+ "who logs in gets a role")
		boolean isRoleValuesSetWhenEnabled() {
			return !enabled() || !this.viewerValues.isEmpty() || !this.operatorValues.isEmpty();
		}

		@AssertTrue(message = "pglockwatch.security.oidc.scopes must include openid")
		boolean isOpenidScopeRequested() {
			return !enabled() || this.scopes.contains("openid");
		}

		private static boolean notBlank(String value) {
			return value != null && !value.isBlank();
		}

		@Override
		public String toString() {
			return "Oidc[issuerUri=" + this.issuerUri + ", clientId=" + this.clientId + ", clientSecret="
					+ (notBlank(this.clientSecret) ? "******" : "") + ", roleClaim=" + this.roleClaim
					+ ", viewerValues=" + this.viewerValues + ", operatorValues=" + this.operatorValues + ", scopes="
					+ this.scopes + ", jwtAudience=" + this.jwtAudience + "]";
		}

	}

	/** What a user may do. */
	public enum Role {

		/** See the dashboard, incidents and the API. */
		VIEWER,

		/** Also act: cancel a queued DDL from the dashboard. */
		OPERATOR

	}

}
