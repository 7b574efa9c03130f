package io.pglockwatch.poll;

import java.util.Set;
import java.util.TreeSet;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Stops startup on a {@code pglockwatch.*} key that no feature binds, e.g. {@code pglockwatch.gaurd.mode}. Each
 * feature's properties record rejects unknown keys inside its own section ({@code ignoreUnknownFields = false}); this
 * check covers the sections themselves, which are read from the {@link ConfigurationProperties} beans, so a new
 * feature's section is known as soon as its record exists ({@code targets} and {@code query-text} are the keys of
 * {@link TargetsProperties} itself). Environment variables are not checked: a misspelled one
 * cannot be told from an unrelated variable that happens to start with {@code PGLOCKWATCH_}.
 */
public final class UnknownPropertiesCheck implements InitializingBean {

	private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("pglockwatch");

	private final ConfigurableEnvironment environment;

	private final ApplicationContext context;

	public UnknownPropertiesCheck(ConfigurableEnvironment environment, ApplicationContext context) {
		this.environment = environment;
		this.context = context;
	}

	@Override
	public void afterPropertiesSet() {
		Set<String> sections = knownSections();
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(this.environment)) {
			if (!(source instanceof IterableConfigurationPropertySource iterable)
					|| source.getUnderlyingSource() instanceof SystemEnvironmentPropertySource) {
				continue;
			}
			iterable.stream().filter(ROOT::isAncestorOf).forEach((name) -> {
				String section = name.getElement(1, ConfigurationPropertyName.Form.DASHED);
				if (!sections.contains(section)) {
					throw new UnknownPropertyException(name.toString(), origin(source),
							sections);
				}
			});
		}
	}

	private static String origin(ConfigurationPropertySource source) {
		return (source.getUnderlyingSource() instanceof PropertySource<?> propertySource) ? propertySource.getName()
				: String.valueOf(source.getUnderlyingSource());
	}

	private Set<String> knownSections() {
		// the test fixtures' own switches (pglockwatch.test.postgres, ...), never read by the service
		Set<String> sections = new TreeSet<>(Set.of("targets", "query-text", "test"));
		for (String name : this.context.getBeanNamesForAnnotation(ConfigurationProperties.class)) {
			ConfigurationProperties annotation = this.context.findAnnotationOnBean(name, ConfigurationProperties.class);
			String prefix = (annotation == null) ? "" : annotation.prefix();
			if (ConfigurationPropertyName.isValid(prefix) && ROOT.isAncestorOf(ConfigurationPropertyName.of(prefix))) {
				sections.add(ConfigurationPropertyName.of(prefix).getElement(1, ConfigurationPropertyName.Form.DASHED));
			}
		}
		return sections;
	}

	/** A {@code pglockwatch.*} key that no feature binds. */
	static final class UnknownPropertyException extends IllegalStateException {

		private final String property;

		private final String origin;

		private final Set<String> sections;

		UnknownPropertyException(String property, String origin, Set<String> sections) {
			super("Unknown property " + property + " (" + origin + "): pglockwatch.* has the sections "
					+ String.join(", ", sections) + "; see docs/configuration.md");
			this.property = property;
			this.origin = origin;
			this.sections = sections;
		}

	}

	/** Reports an unknown key the way Spring Boot reports a bad value: a short box, no stack trace. */
	static final class UnknownPropertyFailureAnalyzer extends AbstractFailureAnalyzer<UnknownPropertyException> {

		@Override
		protected FailureAnalysis analyze(Throwable rootFailure, UnknownPropertyException cause) {
			return new FailureAnalysis("Unknown property " + cause.property + " in " + cause.origin + ".",
					"Fix or remove it. The sections under pglockwatch are " + String.join(", ", cause.sections)
							+ "; docs/configuration.md lists every property.",
					cause);
		}

	}

}
