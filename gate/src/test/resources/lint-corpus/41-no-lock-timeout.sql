-- expect: strong-lock-without-lock-timeout@2
ALTER TABLE users ADD COLUMN nickname text;
