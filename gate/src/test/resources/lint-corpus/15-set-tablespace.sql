-- expect: table-rewrite@3
SET lock_timeout = '2s';
ALTER TABLE audit_log SET TABLESPACE archive;
