package io.pglockwatch.poll;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import org.postgresql.Driver;
import org.postgresql.PGProperty;

/**
 * A target URL the PostgreSQL driver will accept as it is: {@code jdbc:postgresql://host[:port]/database}, a port
 * from 1 to 65535, and only parameters the driver knows, with a value it accepts where it lists its choices
 * ({@code sslmode=verify-full}). Caught at startup, with the reason, rather than as a driver warning on every poll.
 */
@Documented
@Constraint(validatedBy = PostgresUrl.Validator.class)
@Target({ ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER })
@Retention(RetentionPolicy.RUNTIME)
@interface PostgresUrl {

	String message() default "must look like jdbc:postgresql://host:5432/database";

	Class<?>[] groups() default {};

	Class<? extends Payload>[] payload() default {};

	/** Checks the URL the way the driver reads it. */
	final class Validator implements ConstraintValidator<PostgresUrl, String> {

		private static final Pattern SHAPE = Pattern.compile("jdbc:postgresql://[^/?#]+/[^?#]+(\\?.*)?");

		private static final Pattern PORT = Pattern.compile("jdbc:postgresql://[^/?#]*:([^/?#:]*)/.*");

		/** Set by the driver from the host part, not by the user. */
		private static final List<String> FROM_HOST = List.of("PGHOST", "PGPORT", "PGDBNAME");

		@Override
		public boolean isValid(String url, ConstraintValidatorContext context) {
			if (url == null) {
				return true; // @NotNull says so
			}
			if (!SHAPE.matcher(url).matches()) {
				return false;
			}
			Matcher port = PORT.matcher(url);
			if (port.matches() && !validPort(port.group(1))) {
				return reject(context, "port '" + port.group(1) + "' must be a number from 1 to 65535");
			}
			Properties parsed = Driver.parseURL(url, null);
			if (parsed == null) {
				return reject(context, "the PostgreSQL driver cannot read it; it must look like "
						+ "jdbc:postgresql://host:5432/database?parameter=value");
			}
			for (String name : parsed.stringPropertyNames()) {
				if (FROM_HOST.contains(name)) {
					continue;
				}
				PGProperty property = PGProperty.forName(name);
				if (property == null) {
					return reject(context, "parameter '" + name + "' is not a parameter of the PostgreSQL driver");
				}
				String[] choices = property.getChoices();
				if (choices != null && choices.length > 0
						&& Arrays.stream(choices).noneMatch((c) -> c.equalsIgnoreCase(parsed.getProperty(name)))) {
					return reject(context, "parameter '" + name + "' must be one of " + String.join(", ", choices));
				}
			}
			return true;
		}

		private static boolean validPort(String port) {
			try {
				int value = Integer.parseInt(port);
				return value >= 1 && value <= 65535;
			}
			catch (NumberFormatException ex) {
				return false;
			}
		}

		private static boolean reject(ConstraintValidatorContext context, String reason) {
			context.disableDefaultConstraintViolation();
			// the reason quotes user text: escape what the message interpolator would read as expressions
			context.buildConstraintViolationWithTemplate(reason.replace("\\", "\\\\").replace("{", "\\{")
				.replace("}", "\\}").replace("$", "\\$")).addConstraintViolation();
			return false;
		}

	}

}
