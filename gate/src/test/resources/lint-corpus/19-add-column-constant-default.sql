-- expect: none
-- PostgreSQL 11+ stores a non-volatile default once: no rewrite
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
ALTER TABLE orders ADD COLUMN flags jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE orders ADD COLUMN imported_at timestamptz DEFAULT now();
ALTER TABLE orders ADD COLUMN amount numeric(10, 2) DEFAULT CAST('0' AS numeric(10, 2)) NOT NULL;
ALTER TABLE orders ADD COLUMN created_on date DEFAULT CURRENT_DATE;
