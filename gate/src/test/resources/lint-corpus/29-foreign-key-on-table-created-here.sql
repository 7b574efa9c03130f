-- expect: none
SET lock_timeout = '2s';
CREATE TABLE order_note (id bigint PRIMARY KEY, order_id bigint NOT NULL, body text);
ALTER TABLE order_note ADD CONSTRAINT order_note_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE order_note ADD CONSTRAINT order_note_body CHECK (length(body) < 10000);
