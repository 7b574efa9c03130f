package io.pglockwatch.security;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
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
 */
@Validated
@ConfigurationProperties(prefix = "pglockwatch.security", ignoreUnknownFields = false)
public record SecurityProperties(@DefaultValue("true") boolean loginRequired, List<@Valid User> users,
		List<@Valid ApiToken> apiTokens) {

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
			+ "pglockwatch.security.login-required is true (see docs/configuration.md#login)")
	boolean isUsersConfiguredWhenLoginRequired() {
		return !this.loginRequired || !this.users.isEmpty();
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

	/** What a user may do. */
	public enum Role {

		/** See the dashboard, incidents and the API. */
		VIEWER,

		/** Also act: cancel a queued DDL from the dashboard. */
		OPERATOR

	}

}
