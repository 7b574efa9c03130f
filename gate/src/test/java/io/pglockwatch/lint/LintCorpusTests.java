package io.pglockwatch.lint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lint over the corpus in src/test/resources/lint-corpus: every .sql file says what the lint must find in it
 * ({@code -- expect: rule@line, ...} or {@code -- expect: none}); {@code -- options: gate} lints it as gate-managed.
 * A file at the top is linted alone; a directory is linted as one run (a migration history), each of its files
 * still with its own expectations. Every mismatch is reported, not only the first.
 */
class LintCorpusTests {

	private static final Path CORPUS = Path.of("src/test/resources/lint-corpus");

	private static final Pattern EXPECT = Pattern.compile("^--\\s*expect:\\s*(.*)$", Pattern.MULTILINE);

	private static final Pattern OPTIONS = Pattern.compile("^--\\s*options:\\s*(.*)$", Pattern.MULTILINE);

	@Test
	void everySnippetGivesExactlyItsExpectedFindings() throws IOException {
		List<String> mismatches = new ArrayList<>();
		int snippets = 0;
		int withFindings = 0;
		int clean = 0;
		List<Path> entries;
		try (Stream<Path> list = Files.list(CORPUS)) {
			entries = list.sorted().toList();
		}
		for (Path entry : entries) {
			List<Path> files = Lint.sqlFiles(entry);
			boolean gate = false;
			Map<String, List<String>> expected = new TreeMap<>();
			for (Path file : files) {
				String sql = Files.readString(file, StandardCharsets.UTF_8);
				Matcher expect = EXPECT.matcher(sql);
				assertThat(expect.find()).as("%s has no '-- expect:' line", file).isTrue();
				List<String> rules = parse(expect.group(1));
				expected.put(file.toString(), rules);
				Matcher options = OPTIONS.matcher(sql);
				gate |= options.find() && options.group(1).contains("gate");
				snippets++;
				if (rules.isEmpty()) {
					clean++;
				}
				else {
					withFindings++;
				}
			}
			List<Finding> findings = Lint.check(new Lint.Options(gate), entry);
			Map<String, List<String>> actual = new TreeMap<>();
			for (Path file : files) {
				actual.put(file.toString(), new ArrayList<>());
			}
			for (Finding finding : findings) {
				actual.get(finding.file()).add(finding.ruleId() + "@" + finding.line());
			}
			for (Map.Entry<String, List<String>> file : expected.entrySet()) {
				List<String> got = actual.get(file.getKey());
				List<String> want = file.getValue();
				if (!matches(want, got)) {
					mismatches.add(file.getKey() + ": expected " + (want.isEmpty() ? "none" : want) + " but found "
							+ (got.isEmpty() ? "none" : got) + "\n" + LintReports.text(findings.stream()
								.filter(f -> f.file().equals(file.getKey())).toList()));
				}
			}
		}
		assertThat(mismatches).as("corpus mismatches").isEmpty();
		assertThat(snippets).isGreaterThanOrEqualTo(40);
		// both kinds: true positives and false-positive traps
		assertThat(withFindings).isGreaterThanOrEqualTo(20);
		assertThat(clean).isGreaterThanOrEqualTo(20);
	}

	@Test
	void theCorpusCoversEveryRule() throws IOException {
		String all;
		try (Stream<Path> walk = Files.walk(CORPUS)) {
			all = String.join("\n", walk.filter(p -> p.toString().endsWith(".sql")).map(p -> {
				try {
					return Files.readString(p);
				}
				catch (IOException ex) {
					throw new java.io.UncheckedIOException(ex);
				}
			}).toList());
		}
		for (Rule rule : Rule.values()) {
			assertThat(all).as("a corpus snippet expects %s", rule.id()).containsPattern("expect:.*" + rule.id());
		}
	}

	private static List<String> parse(String list) {
		List<String> rules = new ArrayList<>();
		if (list.strip().equals("none")) {
			return rules;
		}
		for (String item : list.split(",")) {
			rules.add(item.strip());
		}
		return rules;
	}

	/** Same multiset; an expectation without {@code @line} matches the rule on any line. */
	private static boolean matches(List<String> want, List<String> got) {
		List<String> remaining = new ArrayList<>(got);
		for (String w : want) {
			String found = null;
			for (String g : remaining) {
				if (g.equals(w) || (!w.contains("@") && g.startsWith(w + "@"))) {
					found = g;
					break;
				}
			}
			if (found == null) {
				return false;
			}
			remaining.remove(found);
		}
		return remaining.isEmpty();
	}

}
