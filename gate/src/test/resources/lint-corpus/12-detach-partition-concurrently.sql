-- expect: concurrently-in-transaction@2
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;
