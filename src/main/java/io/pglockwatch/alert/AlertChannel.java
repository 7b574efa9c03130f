package io.pglockwatch.alert;

import java.util.Locale;

/** Where alert events go. */
public enum AlertChannel {

	PAGERDUTY, WEBHOOK;

	public String label() {
		return name().toLowerCase(Locale.ROOT);
	}

	public static AlertChannel of(String label) {
		return valueOf(label.toUpperCase(Locale.ROOT));
	}

}
