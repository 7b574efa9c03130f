CREATE TABLE gate_seen AS SELECT current_setting('application_name') AS application_name, current_setting('lock_timeout') AS lock_timeout;
