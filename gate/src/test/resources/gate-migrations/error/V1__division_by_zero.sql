CREATE TABLE gate_error_probe (id int);
SELECT 1 / 0;
