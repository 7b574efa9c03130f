package io.pglockwatch.lint;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The lint for pipelines:
 * {@code java -cp pg-lockwatch-gate.jar io.pglockwatch.lint.LintCommand [options] PATH...}.
 * Exit codes: 0 no findings, 1 findings, 2 a bad flag or a file or directory that cannot be read.
 */
public final class LintCommand {

	public static final int OK = 0;

	public static final int FINDINGS = 1;

	public static final int USAGE = 2;

	static final String USAGE_TEXT = """
			usage: java -cp pg-lockwatch-gate.jar io.pglockwatch.lint.LintCommand [options] PATH...
			  PATH                    a migration file or a directory of them (*.sql, read in Flyway's order)
			  --format text|json|sarif  output format (default text)
			  --output FILE           write the report to FILE instead of standard output
			  --gate                  the pg-lockwatch gate runs the migrations (it sets lock_timeout and retries):
			                          strong-lock-without-lock-timeout is not reported
			  --fail-on warning|error exit 1 on any finding (warning, the default) or on errors only
			  --docs-url URL          where docs/lint.md is, for SARIF's helpUri (default docs/lint.md)
			  --help                  this text
			exit codes: 0 no findings, 1 findings, 2 usage or I/O error
			accept a finding: -- pglockwatch:allow <rule>[, <rule>] <reason>   on the line before the statement
			""";

	private LintCommand() {
	}

	public static void main(String[] args) {
		System.exit(run(args, System.out, System.err));
	}

	/** Runs the command; returns its exit code. */
	public static int run(String[] args, PrintStream out, PrintStream err) {
		String format = "text";
		String output = null;
		String docs = LintReports.DEFAULT_DOCS;
		boolean gate = false;
		Severity failOn = Severity.WARNING;
		List<Path> paths = new ArrayList<>();
		for (int i = 0; i < args.length; i++) {
			String arg = args[i];
			String value = null;
			int eq = arg.indexOf('=');
			if (arg.startsWith("--") && eq > 0) {
				value = arg.substring(eq + 1);
				arg = arg.substring(0, eq);
			}
			switch (arg) {
				case "--help", "-h" -> {
					out.print(USAGE_TEXT);
					return OK;
				}
				case "--gate" -> gate = true;
				case "--format", "--output", "--fail-on", "--docs-url" -> {
					if (value == null) {
						if (i + 1 >= args.length) {
							return usage(err, arg + " needs a value");
						}
						value = args[++i];
					}
					switch (arg) {
						case "--format" -> {
							if (!List.of("text", "json", "sarif").contains(value)) {
								return usage(err, "--format " + value + ": expected text, json or sarif");
							}
							format = value;
						}
						case "--output" -> output = value;
						case "--docs-url" -> docs = value;
						default -> {
							if (!value.equals("warning") && !value.equals("error")) {
								return usage(err, "--fail-on " + value + ": expected warning or error");
							}
							failOn = value.equals("error") ? Severity.ERROR : Severity.WARNING;
						}
					}
				}
				default -> {
					if (arg.startsWith("-") && !arg.equals("-")) {
						return usage(err, "unknown option " + args[i]);
					}
					paths.add(Paths.get(arg));
				}
			}
		}
		if (paths.isEmpty()) {
			return usage(err, "no migration file or directory given");
		}
		List<Finding> findings;
		try {
			findings = Lint.check(new Lint.Options(gate), paths.toArray(Path[]::new));
		}
		catch (Lint.LintException ex) {
			err.println("pglockwatch lint: " + ex.getMessage());
			return USAGE;
		}
		String report;
		try {
			report = switch (format) {
				case "json" -> LintReports.json(findings);
				case "sarif" -> LintReports.sarif(findings, docs);
				default -> LintReports.text(findings);
			};
		}
		catch (NoClassDefFoundError ex) {
			err.println("pglockwatch lint: --format " + format + " needs Jackson 3 (tools.jackson.core:jackson-databind, "
					+ "a dependency of Flyway) on the classpath: " + ex.getMessage());
			return USAGE;
		}
		if (output != null) {
			try {
				Path file = Paths.get(output);
				if (file.getParent() != null) {
					Files.createDirectories(file.getParent());
				}
				Files.writeString(file, report, StandardCharsets.UTF_8);
			}
			catch (IOException | RuntimeException ex) {
				err.println("pglockwatch lint: --output " + output + ": cannot write: " + ex.getMessage());
				return USAGE;
			}
			if (!findings.isEmpty()) {
				err.println("pglockwatch lint: " + findings.size() + " finding(s), report in " + output);
			}
		}
		else {
			out.print(report);
		}
		Severity threshold = failOn;
		boolean fail = findings.stream().anyMatch(f -> f.severity().ordinal() <= threshold.ordinal());
		return fail ? FINDINGS : OK;
	}

	private static int usage(PrintStream err, String message) {
		err.println("pglockwatch lint: " + message);
		err.print(USAGE_TEXT);
		return USAGE;
	}

}
