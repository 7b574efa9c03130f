-- expect: vacuum-full-or-cluster@3
SET lock_timeout = '2s';
CLUSTER orders USING orders_pkey;
