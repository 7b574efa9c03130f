package io.pglockwatch.detect;

import java.util.Locale;

/** How bad an incident is; PagerDuty severities of the same names. */
public enum Severity {

	WARNING, CRITICAL;

	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

}
