-- expect: none
-- VALIDATE takes ShareUpdateExclusiveLock: reads and writes go on during the scan
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
