package io.pglockwatch.testsupport;

/** One login for the web tests: a password and its bcrypt hash (configuration holds hashes only). */
public final class TestLogin {

	public static final String PASSWORD = "correct horse battery staple";

	public static final String HASH = "$2a$10$VvsVOkRFFqahodcWaap4suIIMkGEXq/5KdgpJ7zSXLCLenIjMfSz6";

	private TestLogin() {
	}

}
