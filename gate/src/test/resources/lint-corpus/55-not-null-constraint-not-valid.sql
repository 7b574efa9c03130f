-- expect: none
-- PostgreSQL 18: a NOT NULL constraint can be added NOT VALID and validated later
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email NOT VALID;
