-- expect: index-without-concurrently@2, strong-lock-without-lock-timeout@2
CREATE INDEX orders_customer_idx ON orders (customer_id);
