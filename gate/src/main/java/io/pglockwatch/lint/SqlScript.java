package io.pglockwatch.lint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A migration file split into statements, as PostgreSQL's lexer reads it: {@code ;} ends a statement except inside
 * a string ({@code '...'}, {@code E'...'} with backslash escapes, dollar quotes {@code $tag$...$tag$}), a quoted
 * name, a comment ({@code --} and nested <code>/* *&#47;</code>) or a {@code BEGIN ATOMIC ... END} function body.
 * Each statement keeps its tokens (comments and spaces dropped), the line and column it starts at, and the
 * {@code pglockwatch:allow} rules accepted for it.
 */
public final class SqlScript {

	/** {@code pglockwatch:allow rule-a, rule-b reason...}. */
	private static final Pattern ALLOW = Pattern
			.compile("pglockwatch:allow\\s+([A-Za-z0-9_-]+(?:\\s*,\\s*[A-Za-z0-9_-]+)*)(.*)");

	enum Kind {
		WORD, QUOTED, STRING, NUMBER, PARAMETER, PUNCT
	}

	/** A significant token; {@code line} and {@code column} are 1-based. */
	record Token(Kind kind, String text, int start, int line, int column) {

		boolean is(String keyword) {
			return this.kind == Kind.WORD && this.text.equalsIgnoreCase(keyword);
		}

		boolean is(char c) {
			return this.kind == Kind.PUNCT && this.text.length() == 1 && this.text.charAt(0) == c;
		}

		boolean isName() {
			return this.kind == Kind.WORD || this.kind == Kind.QUOTED;
		}

		String upper() {
			return this.text.toUpperCase(Locale.ROOT);
		}

		/** The identifier: a bare word folded to lower case, a quoted name as written. */
		String identifier() {
			if (this.kind == Kind.QUOTED) {
				return this.text.substring(1, this.text.length() - 1).replace("\"\"", "\"");
			}
			return this.text.toLowerCase(Locale.ROOT);
		}

	}

	/**
	 * One statement.
	 * @param text its text from its first token up to, not including, the {@code ;} (comments inside kept)
	 * @param allowed rule ids accepted by {@code pglockwatch:allow} comments for it, with the reason given (may be
	 * empty)
	 */
	public record Statement(String text, List<Token> tokens, int line, int column, Map<String, String> allowed) {

		/** The statement on one line, cut at {@code max} characters. */
		String excerpt(int max) {
			String flat = this.text.strip().replaceAll("\\s+", " ");
			return (flat.length() <= max) ? flat : flat.substring(0, max - 1) + "\u2026";
		}

		/** The leading words, upper-cased and joined by one space (as Flyway's statement type detection reads). */
		String keywords(int count) {
			StringBuilder out = new StringBuilder();
			for (int i = 0; i < Math.min(count, this.tokens.size()); i++) {
				if (i > 0) {
					out.append(' ');
				}
				out.append(this.tokens.get(i).upper());
			}
			return out.toString();
		}

	}

	/** The text cannot be read: an unterminated string, quoted name or comment. */
	public static final class MalformedSqlException extends RuntimeException {

		final int line;

		MalformedSqlException(String message, int line) {
			super(message);
			this.line = line;
		}

	}

	private final String s;

	private final int[] lineStarts;

	private SqlScript(String s) {
		this.s = s;
		List<Integer> starts = new ArrayList<>();
		starts.add(0);
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c == '\n' || (c == '\r' && (i + 1 >= s.length() || s.charAt(i + 1) != '\n'))) {
				starts.add(i + 1);
			}
		}
		this.lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
	}

	/**
	 * Splits {@code sql} into statements.
	 * @throws MalformedSqlException when a string, quoted name or comment is not closed
	 */
	public static List<Statement> parse(String sql) {
		return new SqlScript(sql).statements();
	}

	private int lineOf(int offset) {
		int lo = 0;
		int hi = this.lineStarts.length - 1;
		while (lo < hi) {
			int mid = (lo + hi + 1) >>> 1;
			if (this.lineStarts[mid] <= offset) {
				lo = mid;
			}
			else {
				hi = mid - 1;
			}
		}
		return lo + 1;
	}

	private int columnOf(int offset) {
		return offset - this.lineStarts[lineOf(offset) - 1] + 1;
	}

	private record Comment(String text, int line) {
	}

	private List<Statement> statements() {
		List<Token> tokens = new ArrayList<>();
		List<Comment> comments = new ArrayList<>();
		Set<Integer> codeLines = new LinkedHashSet<>();
		Set<Integer> commentLines = new LinkedHashSet<>();
		int i = 0;
		int n = this.s.length();
		while (i < n) {
			char c = this.s.charAt(i);
			char next = (i + 1 < n) ? this.s.charAt(i + 1) : '\0';
			int start = i;
			if (Character.isWhitespace(c)) {
				i++;
				continue;
			}
			if (c == '-' && next == '-') {
				int end = i;
				while (end < n && this.s.charAt(end) != '\n' && this.s.charAt(end) != '\r') {
					end++;
				}
				comments.add(new Comment(this.s.substring(i + 2, end), lineOf(i)));
				commentLines.add(lineOf(i));
				i = end;
				continue;
			}
			if (c == '/' && next == '*') {
				i = blockCommentEnd(i);
				String body = this.s.substring(start + 2, i - 2);
				for (int line = lineOf(start); line <= lineOf(i - 1); line++) {
					commentLines.add(line);
				}
				Matcher allow = ALLOW.matcher(body);
				int at = allow.find() ? start + 2 + allow.start() : start;
				comments.add(new Comment(body, lineOf(at)));
				continue;
			}
			Kind kind;
			if (c == '\'') {
				i = stringEnd(i + 1, false);
				kind = Kind.STRING;
			}
			else if ((c == 'E' || c == 'e') && next == '\'') {
				i = stringEnd(i + 2, true);
				kind = Kind.STRING;
			}
			else if ((c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'N' || c == 'n') && next == '\'') {
				i = stringEnd(i + 2, false);
				kind = Kind.STRING;
			}
			else if ((c == 'U' || c == 'u') && next == '&' && i + 2 < n && this.s.charAt(i + 2) == '\'') {
				i = stringEnd(i + 3, false);
				kind = Kind.STRING;
			}
			else if ((c == 'U' || c == 'u') && next == '&' && i + 2 < n && this.s.charAt(i + 2) == '"') {
				i = quotedEnd(i + 2);
				kind = Kind.QUOTED;
			}
			else if (c == '"') {
				i = quotedEnd(i);
				kind = Kind.QUOTED;
			}
			else if (c == '$') {
				int dollarEnd = dollarQuoteEnd(i);
				if (dollarEnd > 0) {
					i = dollarEnd;
					kind = Kind.STRING;
				}
				else if (Character.isDigit(next)) {
					i++;
					while (i < n && Character.isDigit(this.s.charAt(i))) {
						i++;
					}
					kind = Kind.PARAMETER;
				}
				else {
					i++;
					kind = Kind.PUNCT;
				}
			}
			else if (Character.isDigit(c) || (c == '.' && Character.isDigit(next))) {
				i++;
				while (i < n && (Character.isLetterOrDigit(this.s.charAt(i)) || this.s.charAt(i) == '.'
						|| this.s.charAt(i) == '_')) {
					if (this.s.charAt(i) == '.' && i + 1 < n && this.s.charAt(i + 1) == '.') {
						break;
					}
					i++;
				}
				kind = Kind.NUMBER;
			}
			else if (isIdentStart(c)) {
				i++;
				while (i < n && (isIdentStart(this.s.charAt(i)) || Character.isDigit(this.s.charAt(i))
						|| this.s.charAt(i) == '$')) {
					i++;
				}
				kind = Kind.WORD;
			}
			else if (c == ':' && next == ':') {
				i += 2;
				kind = Kind.PUNCT;
			}
			else {
				i++;
				kind = Kind.PUNCT;
			}
			tokens.add(new Token(kind, this.s.substring(start, i), start, lineOf(start), columnOf(start)));
			for (int line = lineOf(start); line <= lineOf(i - 1); line++) {
				codeLines.add(line);
			}
		}
		return group(tokens, comments, codeLines, commentLines);
	}

	private List<Statement> group(List<Token> tokens, List<Comment> comments, Set<Integer> codeLines,
			Set<Integer> commentLines) {
		Map<Integer, List<Comment>> commentsByLine = new LinkedHashMap<>();
		for (Comment comment : comments) {
			commentsByLine.computeIfAbsent(comment.line(), k -> new ArrayList<>()).add(comment);
		}
		List<Statement> statements = new ArrayList<>();
		List<Token> current = new ArrayList<>();
		int atomicDepth = 0;
		for (int k = 0; k < tokens.size(); k++) {
			Token token = tokens.get(k);
			if (atomicDepth == 0 && token.is(';')) {
				if (!current.isEmpty()) {
					statements.add(statement(current, token.start(), commentsByLine, codeLines, commentLines));
				}
				current = new ArrayList<>();
				continue;
			}
			if (token.is("ATOMIC") && !current.isEmpty() && current.get(current.size() - 1).is("BEGIN")
					&& current.size() > 1) {
				atomicDepth = 1;
			}
			else if (atomicDepth > 0 && token.is("CASE")) {
				atomicDepth++;
			}
			else if (atomicDepth > 0 && token.is("END")) {
				atomicDepth--;
			}
			current.add(token);
		}
		if (!current.isEmpty()) {
			statements.add(statement(current, this.s.length(), commentsByLine, codeLines, commentLines));
		}
		return statements;
	}

	private Statement statement(List<Token> tokens, int end, Map<Integer, List<Comment>> commentsByLine,
			Set<Integer> codeLines, Set<Integer> commentLines) {
		Token first = tokens.get(0);
		Map<String, String> allowed = new LinkedHashMap<>();
		// a trailing comment on the statement's first line, then the comment-only lines right above it
		allow(commentsByLine.get(first.line()), allowed);
		for (int line = first.line() - 1; line >= 1 && commentLines.contains(line) && !codeLines.contains(line);
				line--) {
			allow(commentsByLine.get(line), allowed);
		}
		return new Statement(this.s.substring(first.start(), end), List.copyOf(tokens), first.line(),
				first.column(), Collections.unmodifiableMap(allowed));
	}

	private static void allow(List<Comment> comments, Map<String, String> allowed) {
		if (comments == null) {
			return;
		}
		for (Comment comment : comments) {
			Matcher matcher = ALLOW.matcher(comment.text());
			if (matcher.find()) {
				String reason = matcher.group(2).strip().replaceFirst("^[-:\u2014]+\\s*", "");
				for (String rule : matcher.group(1).split("\\s*,\\s*")) {
					allowed.putIfAbsent(rule.strip().toLowerCase(Locale.ROOT), reason);
				}
			}
		}
	}

	private int blockCommentEnd(int from) {
		int depth = 0;
		int i = from;
		int n = this.s.length();
		while (i < n) {
			if (this.s.startsWith("/*", i)) {
				depth++;
				i += 2;
			}
			else if (this.s.startsWith("*/", i)) {
				depth--;
				i += 2;
				if (depth == 0) {
					return i;
				}
			}
			else {
				i++;
			}
		}
		throw new MalformedSqlException("unterminated /* comment", lineOf(from));
	}

	private int stringEnd(int from, boolean backslashEscapes) {
		int i = from;
		int n = this.s.length();
		while (i < n) {
			char c = this.s.charAt(i);
			if (c == '\\' && backslashEscapes) {
				i += 2;
				continue;
			}
			if (c == '\'') {
				if (i + 1 < n && this.s.charAt(i + 1) == '\'') {
					i += 2;
					continue;
				}
				return i + 1;
			}
			i++;
		}
		throw new MalformedSqlException("unterminated string constant", lineOf(from - 1));
	}

	private int quotedEnd(int from) {
		int i = from + 1;
		int n = this.s.length();
		while (i < n) {
			if (this.s.charAt(i) == '"') {
				if (i + 1 < n && this.s.charAt(i + 1) == '"') {
					i += 2;
					continue;
				}
				return i + 1;
			}
			i++;
		}
		throw new MalformedSqlException("unterminated quoted name", lineOf(from));
	}

	/** The end of the dollar-quoted string starting at {@code from}, or -1 when no dollar quote starts there. */
	private int dollarQuoteEnd(int from) {
		int i = from + 1;
		int n = this.s.length();
		if (i < n && isIdentStart(this.s.charAt(i))) {
			while (i < n && (isIdentStart(this.s.charAt(i)) || Character.isDigit(this.s.charAt(i)))) {
				i++;
			}
		}
		if (i >= n || this.s.charAt(i) != '$') {
			return -1;
		}
		String tag = this.s.substring(from, i + 1);
		int close = this.s.indexOf(tag, i + 1);
		if (close < 0) {
			throw new MalformedSqlException("unterminated dollar-quoted string " + tag, lineOf(from));
		}
		return close + tag.length();
	}

	private static boolean isIdentStart(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
	}

}
