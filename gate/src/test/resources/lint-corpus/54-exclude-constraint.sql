-- expect: unique-without-index@3
SET lock_timeout = '2s';
ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&);
