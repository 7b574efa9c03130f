package io.pglockwatch.poll;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.Validator;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.context.properties.source.UnboundElementsSourceFilter;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.validation.MessageInterpolatorFactory;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.convert.ConversionFailedException;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.type.filter.AnnotationTypeFilter;
import org.springframework.util.ClassUtils;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * Checks the whole {@code pglockwatch.*} configuration before any bean is made and reports every problem in one
 * startup message: each feature's properties record is bound and validated on its own here, so a bad
 * {@code detection.ddl-queue.min-wait} no longer hides a bad {@code detection.resolve-after} or a bad target URL,
 * and a value that cannot be converted (a misspelt enum, {@code interval=fast}) does not stop the others from being
 * checked. Keys that nothing binds are problems too: inside a section ({@code pglockwatch.poll.intervall}) and
 * whole sections ({@code pglockwatch.gaurd.mode}); the sections are the prefixes of the
 * {@link ConfigurationProperties} records under {@code io.pglockwatch}, so a new feature's section is known as soon
 * as its record exists. Environment variables are not checked for unknown keys: a misspelt one cannot be told from
 * an unrelated variable that happens to start with {@code PGLOCKWATCH_}.
 */
public final class ConfigurationCheck implements BeanFactoryPostProcessor, EnvironmentAware {

	private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("pglockwatch");

	/** The test fixtures' own switches (pglockwatch.test.postgres, ...), never read by the service. */
	private static final String TEST_SECTION = "test";

	private ConfigurableEnvironment environment;

	@Override
	public void setEnvironment(Environment environment) {
		this.environment = (ConfigurableEnvironment) environment;
	}

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		List<Problem> problems = check(this.environment, recordsUnder("io.pglockwatch", beanFactory.getBeanClassLoader()));
		if (!problems.isEmpty()) {
			throw new ConfigurationProblemsException(problems);
		}
	}

	/** Every problem of the configuration in this environment, for these properties records. */
	static List<Problem> check(ConfigurableEnvironment environment, List<Class<?>> records) {
		List<Problem> problems = new ArrayList<>();
		Binder binder = Binder.get(environment);
		Validator validator = Validation.byDefaultProvider()
			.configure()
			.messageInterpolator(new MessageInterpolatorFactory().getObject())
			.buildValidatorFactory()
			.getValidator();
		Set<String> sections = new TreeSet<>(Set.of(TEST_SECTION));
		for (Class<?> type : records) {
			ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
			ConfigurationPropertyName prefix = ConfigurationPropertyName.of(annotation.prefix());
			if (ROOT.isAncestorOf(prefix)) {
				sections.add(prefix.getElement(1, ConfigurationPropertyName.Form.DASHED));
			}
			else if (ROOT.equals(prefix)) {
				Arrays.stream(type.getRecordComponents())
					.map((component) -> dashed(component.getName()))
					.forEach(sections::add);
			}
			Collecting collecting = new Collecting(problems);
			Object bound = null;
			try {
				bound = bind(binder, annotation, type, collecting);
			}
			catch (RuntimeException ex) {
				if (collecting.failed.isEmpty()) {
					problems.addAll(problemsOf(ex, collecting.failed));
					continue;
				}
			}
			if (!collecting.failed.isEmpty()) {
				// a value that cannot be converted is left unbound and makes the binder fall back to the section's
				// defaults; bind again without those values, so the rest of the section is still checked as given
				Set<String> unconvertible = collecting.failed.stream().map(Problem::property).collect(Collectors.toSet());
				List<ConfigurationPropertySource> sources = new ArrayList<>();
				ConfigurationPropertySources.get(environment)
					.forEach((source) -> sources.add(source.filter((name) -> !unconvertible.contains(name.toString()))));
				try {
					bound = bind(new Binder(sources, new PropertySourcesPlaceholdersResolver(environment)), annotation,
							type, new Collecting(new ArrayList<>()));
				}
				catch (RuntimeException ex) {
					problems.addAll(problemsOf(ex, collecting.failed));
					continue;
				}
			}
			// the whole record at once, so every element of a list is checked, not only up to the first bad one
			for (ConstraintViolation<Object> violation : validator.validate(bound)) {
				String name = annotation.prefix() + "." + dashedPath(violation.getPropertyPath().toString());
				if (collecting.failed.stream().noneMatch((p) -> p.property().equals(name))) {
					ConfigurationProperty property = find(environment, name);
					problems.add(new Problem(name, (property == null) ? violation.getInvalidValue() : property.getValue(),
							(property == null || property.getOrigin() == null) ? null : property.getOrigin().toString(),
							violation.getMessage()));
				}
			}
		}
		problems.addAll(unknownSections(environment, sections));
		return problems;
	}

	private static Object bind(Binder binder, ConfigurationProperties annotation, Class<?> type, Collecting collecting) {
		BindHandler handler = annotation.ignoreUnknownFields() ? collecting
				: new NoUnboundElementsBindHandler(collecting, new UnboundElementsSourceFilter());
		return binder.bindOrCreate(annotation.prefix(), Bindable.of(type), handler);
	}

	/** {@code targets[0].detection.ddlQueue.minQueued} as {@code targets[0].detection.ddl-queue.min-queued}. */
	private static String dashedPath(String path) {
		return Arrays.stream(path.split("\\.")).map(ConfigurationCheck::dashed).collect(Collectors.joining("."));
	}

	private static ConfigurationProperty find(ConfigurableEnvironment environment, String name) {
		if (!ConfigurationPropertyName.isValid(name)) {
			return null;
		}
		ConfigurationPropertyName key = ConfigurationPropertyName.of(name);
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
			ConfigurationProperty property = source.getConfigurationProperty(key);
			if (property != null) {
				return property;
			}
		}
		return null;
	}

	private static String dashed(String camel) {
		return camel.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
	}

	private static List<Class<?>> recordsUnder(String basePackage, ClassLoader classLoader) {
		ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false);
		scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
		List<Class<?>> records = new ArrayList<>();
		for (BeanDefinition candidate : scanner.findCandidateComponents(basePackage)) {
			records.add(ClassUtils.resolveClassName(candidate.getBeanClassName(), classLoader));
		}
		return records;
	}

	private static List<Problem> unknownSections(ConfigurableEnvironment environment, Set<String> sections) {
		Set<Problem> problems = new LinkedHashSet<>();
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
			if (!(source instanceof IterableConfigurationPropertySource iterable)
					|| source.getUnderlyingSource() instanceof SystemEnvironmentPropertySource) {
				continue;
			}
			iterable.stream().filter(ROOT::isAncestorOf).forEach((name) -> {
				if (!sections.contains(name.getElement(1, ConfigurationPropertyName.Form.DASHED))) {
					ConfigurationProperty property = source.getConfigurationProperty(name);
					problems.add(new Problem(name.toString(), (property == null) ? null : property.getValue(),
							origin(source, property), "not a known property: the sections under pglockwatch are "
									+ String.join(", ", sections) + "; docs/configuration.md lists every property"));
				}
			});
		}
		return List.copyOf(problems);
	}

	private static String origin(ConfigurationPropertySource source, ConfigurationProperty property) {
		Origin origin = (property == null) ? null : property.getOrigin();
		if (origin != null) {
			return origin.toString();
		}
		return (source.getUnderlyingSource() instanceof PropertySource<?> propertySource) ? propertySource.getName()
				: null;
	}

	private static List<Problem> problemsOf(RuntimeException failure, List<Problem> alreadyReported) {
		List<Problem> problems = new ArrayList<>();
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof BindValidationException validation) {
				ConfigurationPropertyName object = validation.getValidationErrors().getName();
				for (ObjectError error : validation.getValidationErrors()) {
					String name = (error instanceof FieldError field) ? object + "." + dashed(field.getField())
							: object.toString();
					if (alreadyReported.stream().noneMatch((p) -> p.property().equals(name))) {
						Origin origin = Origin.from(error);
						problems.add(new Problem(name, (error instanceof FieldError field) ? field.getRejectedValue() : null,
								(origin == null) ? null : origin.toString(), error.getDefaultMessage()));
					}
				}
				return problems;
			}
			if (t instanceof UnboundConfigurationPropertiesException unbound) {
				for (ConfigurationProperty property : unbound.getUnboundProperties()) {
					if (alreadyReported.stream().anyMatch((p) -> p.property().equals(property.getName().toString()))) {
						continue; // a value that could not be converted is left unbound: said once, above
					}
					problems.add(new Problem(property.getName().toString(), property.getValue(),
							(property.getOrigin() == null) ? null : property.getOrigin().toString(),
							"not a known property of this section; docs/configuration.md lists every property"));
				}
				return problems;
			}
		}
		if (alreadyReported.isEmpty()) {
			problems.add(new Problem("pglockwatch", null, null, rootMessage(failure)));
		}
		return problems;
	}

	private static String rootMessage(Throwable failure) {
		Throwable root = failure;
		while (root.getCause() != null) {
			root = root.getCause();
		}
		return root.getMessage();
	}

	/** What cannot be converted is reported and left out, so the rest is still bound and validated. */
	private static final class Collecting extends AbstractBindHandler {

		private final List<Problem> problems;

		private final List<Problem> failed = new ArrayList<>();

		Collecting(List<Problem> problems) {
			this.problems = problems;
		}

		@Override
		public Object onFailure(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Exception error)
				throws Exception {
			ConfigurationProperty property = context.getConfigurationProperty();
			if (property == null || !(containsConversionFailure(error))) {
				return super.onFailure(name, target, context, error);
			}
			Problem problem = new Problem(name.toString(), property.getValue(),
					(property.getOrigin() == null) ? null : property.getOrigin().toString(), reason(target, error));
			this.problems.add(problem);
			this.failed.add(problem);
			return null;
		}

		private static boolean containsConversionFailure(Throwable error) {
			for (Throwable t = error; t != null; t = t.getCause()) {
				if (t instanceof ConversionFailedException || t instanceof IllegalArgumentException) {
					return true;
				}
			}
			return false;
		}

		private static String reason(Bindable<?> target, Exception error) {
			Class<?> type = target.getType().resolve();
			if (type != null && type.isEnum()) {
				return "must be one of " + Arrays.stream(type.getEnumConstants())
					.map((c) -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('_', '-'))
					.collect(Collectors.joining(", "));
			}
			if (type == Duration.class) {
				return "must be a duration such as 500ms, 2s, 5m, 1h or 30d";
			}
			if (type == int.class || type == Integer.class) {
				return "must be a whole number";
			}
			if (type == boolean.class || type == Boolean.class) {
				return "must be true or false";
			}
			return rootMessage(error);
		}

	}

	/** One problem: the property, its value as given (never shown for secrets), where it was set and why. */
	record Problem(String property, Object value, String origin, String reason) {
	}

	/** Every problem found, reported together. */
	static final class ConfigurationProblemsException extends IllegalStateException {

		private final List<Problem> problems;

		ConfigurationProblemsException(List<Problem> problems) {
			super(problems.size() + " configuration problem(s): " + problems.stream()
				.map((p) -> p.property() + ": " + p.reason())
				.collect(Collectors.joining("; ")));
			this.problems = List.copyOf(problems);
		}

		List<Problem> problems() {
			return this.problems;
		}

	}

	/** Reports every problem the way Spring Boot reports one bad value, with no stack trace. */
	static final class ConfigurationProblemsFailureAnalyzer
			extends AbstractFailureAnalyzer<ConfigurationProblemsException> {

		@Override
		protected FailureAnalysis analyze(Throwable rootFailure, ConfigurationProblemsException cause) {
			StringBuilder description = new StringBuilder("The pglockwatch configuration has ")
				.append(cause.problems().size())
				.append(cause.problems().size() == 1 ? " problem:\n" : " problems:\n");
			for (Problem problem : cause.problems()) {
				description.append("\n    Property: ").append(problem.property());
				if (problem.value() != null && !isSecret(problem.property())) {
					description.append("\n    Value: \"").append(problem.value()).append('"');
				}
				if (problem.origin() != null) {
					description.append("\n    Origin: ").append(problem.origin());
				}
				description.append("\n    Reason: ").append(problem.reason()).append('\n');
			}
			return new FailureAnalysis(description.toString(),
					"Fix the properties above, all at once; docs/configuration.md lists every property, its default "
							+ "and its rules.",
					cause);
		}

		private static boolean isSecret(String property) {
			String name = property.toLowerCase(Locale.ROOT);
			return name.contains("password") || name.contains("key") || name.contains("secret")
					|| name.contains("token") || name.contains("sha256") || name.contains("hash");
		}

	}

}
