package io.pglockwatch.lint;

import java.nio.file.Path;
import java.util.List;

/**
 * The lint as a test: put {@code LintAssertions.assertNoFindings(Path.of("src/main/resources/db/migration"))} in a
 * project's tests and the build fails on a migration that would block reads or writes for longer than it needs
 * to, with the findings in the failure message. Needs no test framework: it throws {@link AssertionError}.
 */
public final class LintAssertions {

	private LintAssertions() {
	}

	/** Fails with the text report when the files or directories have findings. */
	public static void assertNoFindings(Path... filesOrDirs) {
		assertNoFindings(Lint.Options.defaults(), filesOrDirs);
	}

	/** Fails with the text report when the files or directories have findings under these options. */
	public static void assertNoFindings(Lint.Options options, Path... filesOrDirs) {
		List<Finding> findings = Lint.check(options, filesOrDirs);
		if (!findings.isEmpty()) {
			throw new AssertionError("the migration lint found " + findings.size()
					+ (findings.size() == 1 ? " problem" : " problems")
					+ " (accept one with -- pglockwatch:allow <rule> <reason> on the line before it):\n\n"
					+ LintReports.text(findings));
		}
	}

}
