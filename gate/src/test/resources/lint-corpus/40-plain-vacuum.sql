-- expect: none
VACUUM (ANALYZE, VERBOSE) orders;
ANALYZE customers;
