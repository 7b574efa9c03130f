package io.pglockwatch.dashboard;

/**
 * The start of a statement for a page that shows many of them (a statement may be as long as the server's
 * track_activity_query_size, up to 1 MB), and whether the rest was left out; the whole one is a click away.
 *
 * <p>The length is measured as the page will carry it, in bytes of UTF-8 after HTML escaping: 300 plain ASCII
 * characters, fewer when they are non-ASCII or quotes and angle brackets. Counting characters instead would let a
 * statement of quotes (each sent as {@code &quot;}) make its excerpt six times the size, and the page with it.
 *
 * @param text the start, then an ellipsis when cut
 * @param cut whether anything was left out
 */
record Excerpt(String text, boolean cut) {

	/** On a card or a line of the graph, which the live page refetches every poll. */
	static final int IN_GRAPH = 300;

	/** The incident's own two statements (waiting DDL, root blocker), each in a section of its own. */
	static final int IN_SECTION = 2_000;

	/** @return null when there is no statement (query text off, or not visible to the monitor) */
	static Excerpt of(String full, int maxBytes) {
		if (full == null) {
			return null;
		}
		int bytes = 0;
		int k = 0;
		while (k < full.length()) {
			int c = full.codePointAt(k);
			bytes += sentBytes(c);
			if (bytes > maxBytes) {
				// whole code points, so an emoji or a CJK character outside the BMP is never split in half
				return new Excerpt(full.substring(0, k) + "…", true);
			}
			k += Character.charCount(c);
		}
		return new Excerpt(full, false);
	}

	/** What one character costs in the page: Thymeleaf's escape of it, or its UTF-8 bytes. */
	private static int sentBytes(int c) {
		return switch (c) {
			case '"' -> 6;
			case '&', '\'' -> 5;
			case '<', '>' -> 4;
			default -> (c < 0x80) ? 1 : (c < 0x800) ? 2 : (c < 0x10000) ? 3 : 4;
		};
	}

}
