package io.pglockwatch.ship;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Static checks of the Dockerfile (no Docker engine is needed, or available, to run the tests): a multi-stage
 * build on pinned bases, Boot's layers in order, a numeric non-root user, an exec-form entrypoint, and no secret
 * or remote download baked in.
 */
class DockerfileTests {

	private static final Path DOCKERFILE = Path.of("Dockerfile");

	private static final Path DOCKERIGNORE = Path.of(".dockerignore");

	private static final Pattern FROM = Pattern.compile("(?i)^FROM\\s+(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?$");

	private static List<Instruction> instructions;

	@BeforeAll
	static void parse() throws IOException {
		instructions = parse(Files.readString(DOCKERFILE, StandardCharsets.UTF_8));
	}

	@Test
	void buildsInOneStageAndRunsInAnother() {
		List<Instruction> froms = of("FROM");
		assertThat(froms).hasSizeGreaterThanOrEqualTo(2);
		Matcher build = FROM.matcher(froms.get(0).text());
		assertThat(build.matches()).isTrue();
		assertThat(build.group(1)).as("build stage: Maven on a JDK 17").startsWith("maven:").contains("17");
		Matcher runtime = FROM.matcher(froms.get(froms.size() - 1).text());
		assertThat(runtime.matches()).isTrue();
		assertThat(runtime.group(1)).as("runtime: a Java 17 JRE, no JDK or Maven").contains("17").contains("jre");
		assertThat(instructionsAfterLastFrom()).anySatisfy((i) -> assertThat(i.text()).startsWith("COPY --from=" + build.group(2)));
		assertThat(of("RUN")).anySatisfy((i) -> assertThat(i.text()).contains("mvn -B -ntp package"));
	}

	@Test
	void everyBaseImageIsPinnedToATagOrDigest() {
		List<String> stages = new ArrayList<>();
		for (Instruction from : of("FROM")) {
			Matcher m = FROM.matcher(from.text());
			assertThat(m.matches()).as(from.text()).isTrue();
			String image = m.group(1);
			if (stages.contains(image)) {
				continue;
			}
			boolean digest = image.matches(".+@sha256:[0-9a-f]{64}");
			String tag = image.contains(":") ? image.substring(image.lastIndexOf(':') + 1) : "";
			assertThat(digest || (!tag.isEmpty() && !tag.equals("latest") && !tag.contains("/")))
				.as(image + " is pinned to a tag (not latest) or a digest")
				.isTrue();
			if (m.group(2) != null) {
				stages.add(m.group(2));
			}
		}
	}

	@Test
	void extractsBootLayersAndCopiesThemInOrder() {
		assertThat(of("RUN")).anySatisfy((i) -> assertThat(i.text()).contains("-Djarmode=tools")
			.contains("extract --layers --launcher"));
		List<String> copied = new ArrayList<>();
		Pattern layer = Pattern.compile("COPY --from=\\S+ \\S*/extracted/([a-z-]+)/ \\./");
		for (Instruction copy : instructionsAfterLastFrom()) {
			Matcher m = layer.matcher(copy.text());
			if (m.find()) {
				copied.add(m.group(1));
			}
		}
		assertThat(copied).containsExactly("dependencies", "spring-boot-loader", "snapshot-dependencies", "application");
	}

	@Test
	void runsAsANumericNonRootUser() {
		List<Instruction> users = instructionsAfterLastFrom().stream().filter((i) -> i.keyword().equals("USER")).toList();
		assertThat(users).isNotEmpty();
		String user = users.get(users.size() - 1).argument();
		// numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd
		assertThat(user).matches("\\d+(:\\d+)?");
		assertThat(Integer.parseInt(user.split(":")[0])).isPositive();
		assertThat(user).isEqualTo("10001:10001");
	}

	@Test
	void startsJavaDirectlyInExecForm() {
		List<Instruction> entrypoints = of("ENTRYPOINT");
		assertThat(entrypoints).hasSize(1);
		String argument = entrypoints.get(0).argument();
		// exec form (a JSON array): java is PID 1 and receives SIGTERM for the graceful shutdown
		assertThat(argument).startsWith("[").endsWith("]").contains("\"java\"")
			.contains("\"org.springframework.boot.loader.launch.JarLauncher\"");
		assertThat(of("CMD")).allSatisfy((i) -> assertThat(i.argument()).startsWith("["));
		assertThat(of("EXPOSE")).anySatisfy((i) -> assertThat(i.argument()).contains("8080"));
		assertThat(instructionsAfterLastFrom()).anySatisfy((i) -> assertThat(i.text()).isEqualTo("WORKDIR /app"));
		// the default H2 store (./data under the working directory) is writable by the user
		assertThat(of("RUN")).anySatisfy((i) -> assertThat(i.text()).contains("mkdir -p /app/data").contains("chown 10001:10001 /app/data"));
	}

	@Test
	void bakesInNoSecretAndDownloadsNothingUnchecked() {
		for (Instruction i : instructions) {
			String upper = i.text().toUpperCase(Locale.ROOT);
			if (i.keyword().equals("ENV") || i.keyword().equals("ARG") || i.keyword().equals("LABEL")) {
				assertThat(upper).as(i.text()).doesNotContain("PASSWORD", "SECRET", "TOKEN", "ROUTING_KEY", "API_KEY");
			}
			if (i.keyword().equals("ADD")) {
				assertThat(i.argument()).as("ADD of a remote URL: unchecked download").doesNotContainPattern("(?i)https?://|git@");
			}
			assertThat(i.text()).as("no credentials in a URL").doesNotContainPattern("://[^/\\s:]+:[^@/\\s]+@");
		}
		assertThat(of("RUN")).noneSatisfy((i) -> assertThat(i.text()).containsPattern("(?i)(curl|wget)[^|]*\\|\\s*(ba)?sh"));
	}

	@Test
	void dockerignoreKeepsBuildOutputAndHistoryOut() throws IOException {
		List<String> patterns = Files.readAllLines(DOCKERIGNORE, StandardCharsets.UTF_8).stream()
			.map(String::strip)
			.filter((l) -> !l.isEmpty() && !l.startsWith("#"))
			.toList();
		assertThat(patterns).anyMatch((p) -> p.matches("/?target/?"));
		assertThat(patterns).anyMatch((p) -> p.matches("/?\\.git/?"));
		// a local H2 store holds incident history
		assertThat(patterns).anyMatch((p) -> p.matches("/?data/?"));
		// what the build needs must stay in
		assertThat(patterns).noneMatch((p) -> p.matches("/?(src|pom\\.xml)(/.*)?"));
		for (Instruction copy : of("COPY")) {
			if (!copy.text().contains("--from=")) {
				assertThat(copy.argument()).as("the build copies only pom.xml and src").matches("(pom\\.xml|src) \\S+");
			}
		}
	}

	// parsing

	record Instruction(String keyword, String argument) {

		String text() {
			return this.keyword + " " + this.argument;
		}

	}

	private static List<Instruction> of(String keyword) {
		return instructions.stream().filter((i) -> i.keyword().equals(keyword)).toList();
	}

	private static List<Instruction> instructionsAfterLastFrom() {
		int last = 0;
		for (int i = 0; i < instructions.size(); i++) {
			if (instructions.get(i).keyword().equals("FROM")) {
				last = i;
			}
		}
		return instructions.subList(last, instructions.size());
	}

	/** Instructions with their continuation lines joined; comments and parser directives dropped. */
	static List<Instruction> parse(String dockerfile) {
		List<Instruction> result = new ArrayList<>();
		StringBuilder current = new StringBuilder();
		for (String raw : dockerfile.split("\n")) {
			String line = raw.strip();
			if (line.startsWith("#") || (line.isEmpty() && current.length() == 0)) {
				continue;
			}
			boolean continued = line.endsWith("\\");
			current.append(continued ? line.substring(0, line.length() - 1).strip() : line).append(' ');
			if (!continued) {
				String text = current.toString().strip().replaceAll("\\s+", " ");
				current.setLength(0);
				if (!text.isEmpty()) {
					int space = text.indexOf(' ');
					result.add(new Instruction(text.substring(0, space).toUpperCase(Locale.ROOT), text.substring(space + 1)));
				}
			}
		}
		return result;
	}

}
