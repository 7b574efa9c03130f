-- expect: none
SET lock_timeout = '2s';
CREATE TABLE payment (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    amount numeric(12, 2) NOT NULL
);
CREATE INDEX payment_order_idx ON payment (order_id);
