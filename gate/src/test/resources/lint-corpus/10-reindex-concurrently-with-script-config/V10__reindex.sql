-- expect: none
-- V10__reindex.sql.conf sets executeInTransaction=false
REINDEX INDEX CONCURRENTLY orders_customer_idx;
