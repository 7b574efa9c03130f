CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL);
INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, 1000) g;
