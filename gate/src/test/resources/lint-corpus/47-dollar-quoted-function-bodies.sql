-- expect: none
CREATE OR REPLACE FUNCTION archive_orders() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ALTER TABLE orders ALTER COLUMN id TYPE bigint;
    CREATE INDEX orders_x ON orders (x);
    EXECUTE $sql$ VACUUM FULL orders; $sql$;
END
$$;
CREATE FUNCTION noop() RETURNS int LANGUAGE sql AS $body$ SELECT 1; -- ALTER TABLE t ADD COLUMN c int NOT NULL;
$body$;
DO $do$ BEGIN RAISE NOTICE 'DROP INDEX x;'; END $do$;
