-- expect: add-column-volatile-default@4
-- a function is volatile unless declared otherwise
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN referral_code text DEFAULT app.make_code(8);
