package io.pglockwatch.lint;

import java.util.Locale;

/** How bad a finding is; every finding fails the command unless {@code --fail-on error} asks for errors only. */
public enum Severity {

	/** The statement can fail, or blocks reads and writes for as long as it reads or rewrites the table. */
	ERROR,

	/** The statement blocks writes (or reads) longer than it needs to, or can queue without a limit. */
	WARNING;

	/** {@code error} / {@code warning}, as SARIF's {@code level} and the text output name it. */
	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

}
