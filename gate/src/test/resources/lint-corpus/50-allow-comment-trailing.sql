-- expect: none
CREATE INDEX countries_name_idx ON countries (name); -- pglockwatch:allow index-without-concurrently, strong-lock-without-lock-timeout 250 rows
