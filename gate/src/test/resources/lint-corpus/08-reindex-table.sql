-- expect: index-without-concurrently@3
SET lock_timeout = '2s';
REINDEX TABLE orders;
