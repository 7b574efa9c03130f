package io.pglockwatch.security;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches while {@code pglockwatch.security.oidc.issuer-uri} is set: single sign-on is on. */
final class OidcEnabled implements Condition {

	@Override
	public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
		return Binder.get(context.getEnvironment())
			.bind("pglockwatch.security.oidc.issuer-uri", String.class)
			.map((issuer) -> !issuer.isBlank())
			.orElse(false);
	}

}
