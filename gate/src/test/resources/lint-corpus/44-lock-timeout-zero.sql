-- expect: strong-lock-without-lock-timeout@4
SET lock_timeout = '2s';
SET lock_timeout = 0;
ALTER TABLE users ADD COLUMN nickname text;
