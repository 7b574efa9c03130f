-- expect: index-without-concurrently@3
SET lock_timeout TO '2s';
DROP INDEX orders_old_idx;
