package io.pglockwatch.dashboard;

/** One login for the web tests: a password and its bcrypt hash (configuration holds hashes only). */
final class DashboardControllerTestsHash {

	static final String PASSWORD = "correct horse battery staple";

	static final String HASH = "$2a$10$VvsVOkRFFqahodcWaap4suIIMkGEXq/5KdgpJ7zSXLCLenIjMfSz6";

	private DashboardControllerTestsHash() {
	}

}
