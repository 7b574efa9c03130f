-- expect: unique-without-index@3
SET lock_timeout = '2s';
ALTER TABLE legacy ADD PRIMARY KEY (id);
