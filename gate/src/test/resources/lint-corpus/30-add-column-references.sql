-- expect: constraint-without-not-valid@3
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN team_id bigint REFERENCES teams (id);
