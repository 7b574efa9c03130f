-- expect: strong-lock-without-lock-timeout@2
TRUNCATE TABLE import_staging;
