-- expect: several-strong-locks@4
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN archived boolean;
ALTER TABLE customers ADD COLUMN archived boolean;
