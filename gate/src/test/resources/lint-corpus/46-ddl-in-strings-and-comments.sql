-- expect: none
-- DROP INDEX orders_customer_idx; ALTER TABLE users ALTER COLUMN id TYPE bigint;
/* VACUUM FULL orders; /* nested: CLUSTER orders; */ still a comment; REINDEX TABLE orders; */
INSERT INTO audit (note) VALUES ('CREATE INDEX x ON orders (a); ALTER TABLE users ALTER COLUMN c TYPE int;');
COMMENT ON COLUMN users.email IS 'ALTER TABLE users ALTER COLUMN email SET NOT NULL; DROP INDEX x';
UPDATE settings SET value = 'VACUUM FULL' WHERE key = 'maintenance; CLUSTER orders';
