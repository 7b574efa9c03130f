-- expect: none
-- a new table is empty and nobody else holds a lock on it
CREATE TABLE invoice (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    total numeric(12, 2) NOT NULL DEFAULT 0
);
CREATE INDEX invoice_customer_idx ON invoice (customer_id);
CREATE UNIQUE INDEX invoice_total_idx ON public.invoice (total, id);
