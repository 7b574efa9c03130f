package io.pglockwatch.sql;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.pglockwatch.sql.SqlLexer.Token;

/**
 * A relation name as PostgreSQL reads it: {@code users}, {@code public.users}, {@code "My Table"}. Bare words are
 * folded to lower case, quoted names are kept as written, and names longer than 63 bytes are cut as the server
 * cuts them.
 *
 * @param schema the schema, or null when the name is unqualified (the search_path decides)
 * @param name the relation's own name
 */
public record QualifiedName(String schema, String name) {

	/** NAMEDATALEN - 1: PostgreSQL truncates longer identifiers. */
	private static final int MAX_IDENTIFIER_BYTES = 63;

	/**
	 * Parses a name as written in SQL.
	 * @throws IllegalArgumentException when {@code written} is not a relation name
	 */
	public static QualifiedName parse(String written) {
		if (written == null || written.isBlank()) {
			throw new IllegalArgumentException("relation name is empty");
		}
		List<Token> tokens;
		try {
			tokens = SqlLexer.tokens(written);
		}
		catch (SqlLexer.MalformedSqlException ex) {
			throw new IllegalArgumentException("'" + written + "' is not a relation name: " + ex.getMessage());
		}
		List<String> parts = new ArrayList<>();
		for (int i = 0; i < tokens.size(); i++) {
			Token token = tokens.get(i);
			boolean expectName = (i % 2 == 0);
			if (expectName ? !token.isName() : !token.is('.')) {
				throw new IllegalArgumentException("'" + written + "' is not a relation name; expected name or "
						+ "schema.name (quote mixed-case names: \"My Table\")");
			}
			if (expectName) {
				parts.add(truncate(token.identifier()));
			}
		}
		if (tokens.size() % 2 == 0) {
			throw new IllegalArgumentException("'" + written + "' is not a relation name: it ends with '.'");
		}
		if (parts.size() > 2) {
			throw new IllegalArgumentException("'" + written + "' has " + parts.size()
					+ " parts; name a relation as name or schema.name (preflight checks the target's own database)");
		}
		return (parts.size() == 1) ? new QualifiedName(null, parts.get(0)) : new QualifiedName(parts.get(0), parts.get(1));
	}

	/** {@code schema.name} or {@code name}, unquoted, for messages. */
	@Override
	public String toString() {
		return (this.schema != null) ? this.schema + "." + this.name : this.name;
	}

	private static String truncate(String identifier) {
		byte[] bytes = identifier.getBytes(StandardCharsets.UTF_8);
		if (bytes.length <= MAX_IDENTIFIER_BYTES) {
			return identifier;
		}
		// cut at a character boundary, as the server's pg_mbcliplen does
		int end = identifier.length();
		while (identifier.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
			end = identifier.offsetByCodePoints(end, -1);
		}
		return identifier.substring(0, end);
	}

}
