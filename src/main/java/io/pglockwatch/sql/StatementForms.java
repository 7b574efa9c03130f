package io.pglockwatch.sql;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

import io.pglockwatch.lock.LockMode;
import io.pglockwatch.sql.SqlLexer.Token;
import io.pglockwatch.sql.StatementLockModes.RelationLock;
import io.pglockwatch.sql.StatementLockModes.Scope;

/**
 * The statement forms of {@code ddl-lock-modes.tsv} (its header explains the notation) and the matching of a
 * statement's tokens against them. A form is matched by backtracking, so {@code [IF EXISTS] <table>} or
 * {@code ... ON <table>} read as they do in PostgreSQL's reference pages; the first row that matches the whole
 * statement gives the answer.
 */
final class StatementForms {

	/**
	 * PostgreSQL's reserved and type_func_name keywords (kwlist.h): never a bare table, column or constraint name,
	 * so a name in a form never swallows one (VACUUM VERBOSE is no table called verbose).
	 */
	private static final Set<String> NOT_NAMES = Set.of("ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS",
			"ASC", "ASYMMETRIC", "AUTHORIZATION", "BINARY", "BOTH", "CASE", "CAST", "CHECK", "COLLATE", "COLLATION",
			"COLUMN", "CONCURRENTLY", "CONSTRAINT", "CREATE", "CROSS", "CURRENT_CATALOG", "CURRENT_DATE", "CURRENT_ROLE",
			"CURRENT_SCHEMA", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DEFAULT", "DEFERRABLE", "DESC",
			"DISTINCT", "DO", "ELSE", "END", "EXCEPT", "FALSE", "FETCH", "FOR", "FOREIGN", "FREEZE", "FROM", "FULL",
			"GRANT", "GROUP", "HAVING", "ILIKE", "IN", "INITIALLY", "INNER", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN",
			"LATERAL", "LEADING", "LEFT", "LIKE", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "NATURAL", "NOT", "NOTNULL",
			"NULL", "OFFSET", "ON", "ONLY", "OR", "ORDER", "OUTER", "OVERLAPS", "PLACING", "PRIMARY", "REFERENCES",
			"RETURNING", "RIGHT", "SELECT", "SESSION_USER", "SIMILAR", "SOME", "SYMMETRIC", "SYSTEM_USER", "TABLE",
			"TABLESAMPLE", "THEN", "TO", "TRAILING", "TRUE", "UNION", "UNIQUE", "USER", "USING", "VARIADIC", "VERBOSE",
			"WHEN", "WHERE", "WINDOW", "WITH");

	private static final Set<String> LOCK_MODE_WORDS = Set.of("ACCESS", "ROW", "SHARE", "UPDATE", "EXCLUSIVE");

	private static final Set<String> NAME_CAPTURES = Set.of("name", "column", "constraint");

	private static final String STATEMENTS = "statement";

	/**
	 * One row of the table.
	 * @param locks what the statement locks, empty for none
	 * @param refusal why the form is refused, or null
	 */
	record Row(Node form, List<LockSpec> locks, String refusal, String kind, boolean concurrently) {
	}

	/**
	 * One lock of a row: {@code mode on scope(detail) of relation}, or the locks of each item of a section.
	 * @param mode a fixed mode, or null when {@code modeCapture} gives it
	 */
	record LockSpec(LockMode mode, String modeCapture, String relation, Scope scope, String detail, boolean items) {
	}

	/** The answer for one statement or one item of a section. */
	record Answer(List<RelationLock> locks, String kind, boolean concurrently) {
	}

	/**
	 * A value read from the statement under a {@code <name>} of the form.
	 * @param value the relation as written, a folded name, a lock mode, or an item's {@link Answer}
	 */
	private record Capture(String name, Object value) {
	}

	/** Why a statement is refused; turned into an exception that names the statement. */
	static final class Refused extends RuntimeException {

		Refused(String reason) {
			super(reason, null, false, false);
		}

	}

	private final Map<String, List<Row>> sections = new LinkedHashMap<>();

	private StatementForms() {
	}

	/** Reads the table from the class path, next to this class. */
	static StatementForms load(String resource) {
		try (InputStream in = StatementForms.class.getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException(resource + " is missing from the class path");
			}
			List<String> lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
			return parse(resource, lines);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static StatementForms parse(String resource, List<String> lines) {
		// sections first, so that a form can tell a section's name from a relation's
		Map<String, List<Integer>> sectionLines = new LinkedHashMap<>();
		List<Integer> current = null;
		for (int i = 0; i < lines.size(); i++) {
			String line = lines.get(i);
			if (line.startsWith("[") && line.endsWith("]")) {
				current = new ArrayList<>();
				sectionLines.put(line.substring(1, line.length() - 1), current);
			}
			else if (!line.isBlank() && !line.startsWith("#") && current != null) {
				current.add(i);
			}
		}
		StatementForms forms = new StatementForms();
		sectionLines.forEach((name, numbers) -> forms.sections.put(name, new ArrayList<>()));
		sectionLines.forEach((name, numbers) -> {
			for (int i : numbers) {
				try {
					forms.sections.get(name).add(forms.row(lines.get(i).split("\t+")));
				}
				catch (RuntimeException ex) {
					throw new IllegalStateException(resource + " line " + (i + 1) + ": " + ex.getMessage(), ex);
				}
			}
		});
		if (!forms.sections.containsKey(STATEMENTS)) {
			throw new IllegalStateException(resource + " has no [" + STATEMENTS + "] section");
		}
		return forms;
	}

	private Row row(String[] columns) {
		if (columns.length < 2 || columns.length > 4) {
			throw new IllegalArgumentException("expected form, locks, kind [, concurrently]");
		}
		Node form = new FormParser(columns[0]).parse();
		String locks = columns[1].strip();
		String kind = (columns.length < 3 || columns[2].equals("-")) ? null : columns[2];
		boolean concurrently = columns.length == 4 && columns[3].equals("concurrently");
		if (locks.startsWith("refused: ")) {
			return new Row(form, List.of(), locks.substring("refused: ".length()), kind, false);
		}
		List<LockSpec> specs = new ArrayList<>();
		if (!locks.equals("-")) {
			for (String spec : locks.split(",\\s*")) {
				specs.add(lockSpec(spec.strip()));
			}
		}
		return new Row(form, specs, null, kind, concurrently);
	}

	/** {@code MODE on <rel>}, {@code MODE on SCOPE of <rel>}, {@code MODE on SCOPE(<detail>) of <rel>}, {@code locks of <section>}. */
	private LockSpec lockSpec(String spec) {
		if (spec.startsWith("locks of ")) {
			return new LockSpec(null, null, captureName(spec.substring("locks of ".length())), null, null, true);
		}
		int on = spec.indexOf(" on ");
		if (on < 0) {
			throw new IllegalArgumentException("lock '" + spec + "' is not MODE on <relation>");
		}
		String mode = spec.substring(0, on);
		String target = spec.substring(on + " on ".length());
		Scope scope = Scope.RELATION;
		String detail = null;
		int of = target.indexOf(" of ");
		if (of >= 0) {
			String scopeText = target.substring(0, of);
			int paren = scopeText.indexOf('(');
			if (paren >= 0) {
				detail = captureName(scopeText.substring(paren + 1, scopeText.length() - 1));
				scopeText = scopeText.substring(0, paren);
			}
			scope = Scope.valueOf(scopeText);
			target = target.substring(of + " of ".length());
		}
		boolean captured = mode.startsWith("<");
		return new LockSpec(captured ? null : LockMode.of(mode), captured ? captureName(mode) : null,
				captureName(target), scope, detail, false);
	}

	private static String captureName(String written) {
		if (!written.startsWith("<") || !written.endsWith(">")) {
			throw new IllegalArgumentException("'" + written + "' is not a <capture>");
		}
		return written.substring(1, written.length() - 1);
	}

	/**
	 * The answer for a statement's tokens.
	 * @throws Refused when no row matches, or a row that matches refuses the form
	 */
	Answer classify(String sql, List<Token> tokens) {
		Match match = new Match(sql, tokens, 0, tokens.size(), null);
		Answer answer = match.first(this.sections.get(STATEMENTS));
		if (answer != null) {
			return answer;
		}
		if (match.furthest == 0) {
			throw new Refused("not a DDL statement pg-lockwatch knows");
		}
		if (match.reason != null) {
			throw new Refused(match.reason);
		}
		if (match.furthest >= tokens.size()) {
			throw new Refused("it ends too early");
		}
		throw new Refused("pg-lockwatch knows no statement that starts '" + match.text(0, match.furthest) + "'");
	}

	/** The tokens of one statement or item, what the current path has captured, and how far any path got. */
	private static final class Match {

		private final String sql;

		private final List<Token> tokens;

		private final int from;

		private final int end;

		/** The match of the enclosing statement, whose captures an item's locks may name. */
		private final Match outer;

		/** What the current path has captured, undone when it fails. */
		private final List<Capture> captures = new ArrayList<>();

		private int furthest = -1;

		private String reason;

		Match(String sql, List<Token> tokens, int from, int end, Match outer) {
			this.sql = sql;
			this.tokens = tokens;
			this.from = from;
			this.end = end;
			this.outer = outer;
		}

		/** The answer of the first row that matches all tokens, null when none does. */
		Answer first(List<Row> rows) {
			for (Row row : rows) {
				this.captures.clear();
				int furthest = this.furthest;
				String reason = this.reason;
				if (row.form().match(this, this.from, (p) -> p == this.end || fail(p, null))) {
					if (row.refusal() != null) {
						throw new Refused(row.refusal());
					}
					return answer(row);
				}
				if (row.refusal() != null) {
					// how far a refusal's form got says nothing about what the statement lacks
					this.furthest = furthest;
					this.reason = reason;
				}
			}
			return null;
		}

		private Answer answer(Row row) {
			List<RelationLock> locks = new ArrayList<>();
			Set<String> itemKinds = new LinkedHashSet<>();
			List<LockSpec> specs = row.locks();
			int i = 0;
			while (i < specs.size()) {
				// consecutive locks on one capture go together for each relation it holds: t1, t1's keys, t2, ...
				int j = i + 1;
				while (j < specs.size() && specs.get(j).relation().equals(specs.get(i).relation())) {
					j++;
				}
				for (Object value : values(specs.get(i).relation())) {
					for (LockSpec spec : specs.subList(i, j)) {
						if (spec.items()) {
							Answer item = (Answer) value;
							locks.addAll(item.locks());
							if (item.kind() != null) {
								itemKinds.add(item.kind());
							}
						}
						else {
							LockMode mode = (spec.mode() != null) ? spec.mode() : (LockMode) single(spec.modeCapture());
							String detail = (spec.detail() != null) ? (String) single(spec.detail()) : null;
							locks.add(new RelationLock((String) value, mode, spec.scope(), detail));
						}
					}
				}
				i = j;
			}
			String kind = row.kind();
			if (!itemKinds.isEmpty()) {
				kind = kind + " " + String.join(", ", itemKinds);
			}
			return new Answer(locks, kind, row.concurrently());
		}

		/** Every value captured under {@code name} on the matched path, else in the enclosing statement. */
		private List<Object> values(String name) {
			List<Object> values = new ArrayList<>();
			for (Capture capture : this.captures) {
				if (capture.name().equals(name)) {
					values.add(capture.value());
				}
			}
			return (values.isEmpty() && this.outer != null) ? this.outer.values(name) : values;
		}

		private Object single(String name) {
			List<Object> values = values(name);
			if (values.isEmpty()) {
				throw new IllegalStateException("nothing captured as <" + name + ">");
			}
			return values.get(0);
		}

		Token at(int pos) {
			return (pos < this.end) ? this.tokens.get(pos) : null;
		}

		boolean capture(String name, Object value, int next, IntPredicate k) {
			int mark = this.captures.size();
			this.captures.add(new Capture(name, value));
			if (k.test(next)) {
				return true;
			}
			this.captures.subList(mark, this.captures.size()).clear();
			return false;
		}

		/** Remembers the furthest point any path reached, and why it stopped there if known; always false. */
		boolean fail(int pos, String why) {
			if (pos > this.furthest) {
				this.furthest = pos;
				this.reason = why;
			}
			else if (pos == this.furthest && this.reason == null) {
				this.reason = why;
			}
			return false;
		}

		/** The text of tokens {@code first} to {@code last}, both included and clamped to this match. */
		String text(int first, int last) {
			int to = Math.min(last, this.end - 1);
			return (to < first) ? "" : this.sql.substring(this.tokens.get(first).start(), this.tokens.get(to).end());
		}

		String describe(int pos) {
			Token token = at(pos);
			return (token != null) ? token.text() : "(nothing)";
		}

		/** The position after the parenthesis that opens at {@code open}, or -1 when it does not close. */
		int closing(int open) {
			int depth = 0;
			for (int p = open; p < this.end; p++) {
				depth += this.tokens.get(p).is('(') ? 1 : this.tokens.get(p).is(')') ? -1 : 0;
				if (depth == 0) {
					return p + 1;
				}
			}
			return -1;
		}

		/** Where the item that starts at {@code pos} ends: at a comma or unmatched ')' outside parentheses. */
		int itemEnd(int pos) {
			int p = pos;
			while (p < this.end && !this.tokens.get(p).is(',') && !this.tokens.get(p).is(')')) {
				int close = this.tokens.get(p).is('(') ? closing(p) : p + 1;
				p = (close < 0) ? this.end : close;
			}
			return p;
		}

	}

	/** One element of a form, matched in continuation-passing style so that every alternative can be tried. */
	interface Node {

		/** Whether this node matches at {@code pos} and {@code k} accepts where it ends. */
		boolean match(Match m, int pos, IntPredicate k);

	}

	/** A keyword; {@code autovacuum_*} stands for every word that starts {@code autovacuum_}. */
	private record Keyword(String word) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			Token token = m.at(pos);
			boolean prefix = this.word.endsWith("*");
			boolean matches = token != null && (prefix ? token.kind() == SqlLexer.Kind.WORD
					&& token.upper().startsWith(this.word.substring(0, this.word.length() - 1)) : token.is(this.word));
			return matches ? k.test(pos + 1) : m.fail(pos, null);
		}

	}

	private record Punct(char c) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			Token token = m.at(pos);
			return (token != null && token.is(this.c)) ? k.test(pos + 1) : m.fail(pos, null);
		}

	}

	private record Sequence(List<Node> nodes) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			return from(0, m, pos, k);
		}

		private boolean from(int i, Match m, int pos, IntPredicate k) {
			return (i == this.nodes.size()) ? k.test(pos) : this.nodes.get(i).match(m, pos, (p) -> from(i + 1, m, p, k));
		}

	}

	/**
	 * {@code { a | b }}, or {@code [ a | b ]} when optional. An alternative whose leading keywords are there is taken
	 * for good, as a parser would: {@code [IF EXISTS] <constraint>} does not read "IF EXISTS" as a constraint named
	 * "if" when the name is missing.
	 * @param leads the leading keywords and characters of each alternative, possibly none
	 */
	private record Choice(List<Node> alternatives, List<Node> leads, boolean optional) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			for (int i = 0; i < this.alternatives.size(); i++) {
				Node lead = this.leads.get(i);
				if (lead == null) {
					if (this.alternatives.get(i).match(m, pos, k)) {
						return true;
					}
				}
				else if (lead.match(m, pos, (p) -> true)) {
					return this.alternatives.get(i).match(m, pos, k);
				}
			}
			return this.optional && k.test(pos);
		}

	}

	/**
	 * {@code x [, ...]}: as many items as there are commas, never fewer. Taken in a loop rather than by recursion, so
	 * that a list of thousands of tables does not exhaust the stack.
	 */
	private record Repeat(Node item) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			int mark = m.captures.size();
			int[] end = { pos };
			while (this.item.match(m, end[0], (p) -> {
				end[0] = p;
				return true;
			})) {
				Token token = m.at(end[0]);
				if (token == null || !token.is(',')) {
					if (k.test(end[0])) {
						return true;
					}
					break;
				}
				end[0]++;
			}
			m.captures.subList(mark, m.captures.size()).clear();
			return false;
		}

	}

	/** {@code ...}: as few tokens as will do, never half of a parenthesis. */
	private record Skip() implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			int p = pos;
			while (true) {
				if (k.test(p)) {
					return true;
				}
				Token token = m.at(p);
				if (token == null || token.is(')')) {
					return false;
				}
				p = token.is('(') ? m.closing(p) : p + 1;
				if (p < 0) {
					return false;
				}
			}
		}

	}

	/** {@code <table>}: {@code [ONLY] name[.name] [*]}, captured as written. */
	private record Relation(String name) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			int p = pos;
			Token only = m.at(p);
			if (only != null && only.is("ONLY")) {
				p++;
			}
			int first = p;
			Token token = m.at(p);
			if (token == null || !token.isName() || isKeyword(token)) {
				return m.fail(p, "expected a relation name but found '" + m.describe(p) + "'");
			}
			p++;
			while (m.at(p) != null && m.at(p).is('.') && m.at(p + 1) != null && m.at(p + 1).isName()) {
				p += 2;
			}
			String written = m.text(first, p - 1);
			try {
				QualifiedName.parse(written);
			}
			catch (IllegalArgumentException ex) {
				return m.fail(first, ex.getMessage());
			}
			// "name *" asks for the descendant tables too, which is the default anyway
			if (m.at(p) != null && m.at(p).is('*')) {
				p++;
			}
			return m.capture(this.name, written, p, k);
		}

	}

	/** {@code <table>.<column>}: two or three names, the last one the column's. */
	private record ColumnOf(String relation, String column) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			int p = pos;
			int parts = 0;
			while (m.at(p) != null && m.at(p).isName() && (parts == 0 || m.at(p - 1).is('.'))) {
				parts++;
				p += (m.at(p + 1) != null && m.at(p + 1).is('.')) ? 2 : 1;
			}
			if (parts < 2 || parts > 3 || m.at(p - 1).is('.')) {
				return m.fail(pos, "expected table.column or schema.table.column but found '" + m.describe(pos) + "'");
			}
			int mark = m.captures.size();
			m.captures.add(new Capture(this.relation, m.text(pos, p - 3)));
			if (m.capture(this.column, m.tokens.get(p - 1).identifier(), p, k)) {
				return true;
			}
			m.captures.subList(mark, m.captures.size()).clear();
			return false;
		}

	}

	/** {@code <column>}, {@code <constraint>}, {@code <name>}: one name as PostgreSQL stores it. */
	private record Name(String name) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			Token token = m.at(pos);
			if (token == null || !token.isName() || isKeyword(token)) {
				return m.fail(pos, null);
			}
			return m.capture(this.name, token.identifier(), pos + 1, k);
		}

	}

	private record NumberConstant() implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			Token token = m.at(pos);
			return (token != null && token.kind() == SqlLexer.Kind.NUMBER) ? k.test(pos + 1) : m.fail(pos, null);
		}

	}

	/** {@code <lock mode>}: the words of a mode, as LOCK TABLE spells them. */
	private record LockModeWords(String name) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			int p = pos;
			StringBuilder words = new StringBuilder();
			while (m.at(p) != null && m.at(p).kind() == SqlLexer.Kind.WORD && LOCK_MODE_WORDS.contains(m.at(p).upper())) {
				words.append(m.at(p).upper()).append(' ');
				p++;
			}
			LockMode mode = (p > pos) ? LockMode.lookup(words.toString().strip()) : null;
			if (mode == null) {
				return m.fail(pos, "expected a lock mode but found '" + m.describe(pos) + "'");
			}
			return m.capture(this.name, mode, p, k);
		}

	}

	/** {@code <options>}, or {@code <options with X>}: only when option X is on (the last one written counts). */
	private record Options(String required) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			Token open = m.at(pos);
			int close = (open != null && open.is('(')) ? m.closing(pos) : -1;
			if (close < 0) {
				return m.fail(pos, null);
			}
			if (this.required != null) {
				boolean on = false;
				for (int[] item : items(m, pos, close)) {
					if (optionName(m, item).equals(this.required)) {
						on = booleanValue(m, item);
					}
				}
				if (!on) {
					return m.fail(pos, null);
				}
			}
			return k.test(close);
		}

		/** The items of {@code ( a, b = c, ... )} at {@code open}: [start, end) pairs. */
		private static List<int[]> items(Match m, int open, int close) {
			List<int[]> items = new ArrayList<>();
			int p = open + 1;
			while (true) {
				int itemEnd = m.itemEnd(p);
				items.add(new int[] { p, Math.min(itemEnd, close - 1) });
				if (itemEnd >= close - 1) {
					return items;
				}
				p = itemEnd + 1;
			}
		}

		/** {@code name} or {@code toast.name} at the start of an option, lower case. */
		private static String optionName(Match m, int[] item) {
			StringBuilder name = new StringBuilder();
			int p = item[0];
			while (true) {
				Token token = (p < item[1]) ? m.tokens.get(p) : null;
				if (token == null || !token.isName()) {
					throw new Refused("expected an option name but found '" + ((token != null) ? token.text() : "(nothing)") + "'");
				}
				name.append(token.identifier());
				if (p + 1 >= item[1] || !m.tokens.get(p + 1).is('.')) {
					return name.toString();
				}
				name.append('.');
				p += 2;
			}
		}

		/** The value of an option; none means on, as in PostgreSQL's defGetBoolean. */
		private static boolean booleanValue(Match m, int[] item) {
			int p = item[0] + 1;
			while (p < item[1] && m.tokens.get(p).is('.')) {
				p += 2;
			}
			if (p < item[1] && m.tokens.get(p).is('=')) {
				p++;
			}
			if (p >= item[1]) {
				return true;
			}
			String value = m.tokens.get(p).text().toLowerCase(Locale.ROOT).replace("'", "");
			return switch (value) {
				case "true", "on", "1", "yes" -> true;
				case "false", "off", "0", "no" -> false;
				default -> throw new Refused("'" + value + "' is not a boolean");
			};
		}

	}

	/** {@code <section>}: one item, up to the next comma, answered by the first row of that section that matches it. */
	private record Item(String name, List<Row> rows) implements Node {

		@Override
		public boolean match(Match m, int pos, IntPredicate k) {
			int end = m.itemEnd(pos);
			Match item = new Match(m.sql, m.tokens, pos, end, m);
			Answer answer = item.first(this.rows);
			if (answer == null) {
				if (item.reason != null) {
					throw new Refused(item.reason);
				}
				throw new Refused((end == pos) ? this.name + " is empty"
						: this.name + " '" + m.text(pos, Math.max(pos, item.furthest)) + "' is not one pg-lockwatch knows");
			}
			return m.capture(this.name, answer, end, k);
		}

	}

	private static boolean isKeyword(Token token) {
		return token.kind() == SqlLexer.Kind.WORD && NOT_NAMES.contains(token.upper());
	}

	/** Reads one form of the table into nodes. */
	private final class FormParser {

		private final List<String> symbols = new ArrayList<>();

		private int i;

		FormParser(String form) {
			int p = 0;
			while (p < form.length()) {
				char c = form.charAt(p);
				if (c == ' ') {
					p++;
				}
				else if (c == '<') {
					int close = form.indexOf('>', p);
					this.symbols.add(form.substring(p, close + 1));
					p = close + 1;
				}
				else if (form.startsWith("...", p)) {
					this.symbols.add("...");
					p += 3;
				}
				else if (Character.isLetter(c)) {
					int q = p;
					while (q < form.length() && (Character.isLetterOrDigit(form.charAt(q)) || form.charAt(q) == '_')) {
						q++;
					}
					q += (q < form.length() && form.charAt(q) == '*') ? 1 : 0;
					this.symbols.add(form.substring(p, q));
					p = q;
				}
				else {
					this.symbols.add(String.valueOf(c));
					p++;
				}
			}
		}

		Node parse() {
			Node form = sequence();
			if (this.i < this.symbols.size()) {
				throw new IllegalArgumentException("unexpected '" + this.symbols.get(this.i) + "' in the form");
			}
			return form;
		}

		private Node sequence() {
			List<Node> nodes = new ArrayList<>();
			while (this.i < this.symbols.size() && !Set.of("]", "}", "|").contains(this.symbols.get(this.i))) {
				Node node = element();
				if (this.symbols.subList(this.i, Math.min(this.i + 4, this.symbols.size())).equals(List.of("[", ",", "...", "]"))) {
					this.i += 4;
					node = new Repeat(node);
				}
				nodes.add(node);
			}
			return (nodes.size() == 1) ? nodes.get(0) : new Sequence(nodes);
		}

		private Node element() {
			String symbol = this.symbols.get(this.i++);
			if (symbol.equals("[") || symbol.equals("{")) {
				List<Node> alternatives = new ArrayList<>();
				alternatives.add(sequence());
				while (this.symbols.get(this.i).equals("|")) {
					this.i++;
					alternatives.add(sequence());
				}
				String close = this.symbols.get(this.i++);
				if (!close.equals(symbol.equals("[") ? "]" : "}")) {
					throw new IllegalArgumentException("'" + symbol + "' closed by '" + close + "'");
				}
				List<Node> leads = new ArrayList<>();
				for (Node alternative : alternatives) {
					List<Node> nodes = (alternative instanceof Sequence sequence) ? sequence.nodes() : List.of(alternative);
					int n = 0;
					while (n < nodes.size() && (nodes.get(n) instanceof Keyword || nodes.get(n) instanceof Punct)) {
						n++;
					}
					leads.add((n == 0) ? null : new Sequence(nodes.subList(0, n)));
				}
				return new Choice(alternatives, leads, symbol.equals("["));
			}
			if (symbol.equals("...")) {
				return new Skip();
			}
			if (symbol.startsWith("<")) {
				String name = captureName(symbol);
				boolean columnOf = this.i + 1 < this.symbols.size() && this.symbols.get(this.i).equals(".")
						&& this.symbols.get(this.i + 1).startsWith("<");
				if (columnOf) {
					this.i += 2;
					return new ColumnOf(name, captureName(this.symbols.get(this.i - 1)));
				}
				return capture(name);
			}
			if (Character.isLetter(symbol.charAt(0))) {
				return new Keyword(symbol.toUpperCase(Locale.ROOT));
			}
			return new Punct(symbol.charAt(0));
		}

		private Node capture(String name) {
			if (StatementForms.this.sections.containsKey(name)) {
				return new Item(name, StatementForms.this.sections.get(name));
			}
			if (name.equals("options") || name.startsWith("options with ")) {
				return new Options(name.equals("options") ? null
						: name.substring("options with ".length()).toLowerCase(Locale.ROOT));
			}
			if (name.equals("lock mode")) {
				return new LockModeWords(name);
			}
			if (name.equals("number")) {
				return new NumberConstant();
			}
			return NAME_CAPTURES.contains(name) ? new Name(name) : new Relation(name);
		}

	}

}
