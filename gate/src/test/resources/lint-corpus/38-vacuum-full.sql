-- expect: vacuum-full-or-cluster@2, strong-lock-without-lock-timeout@2
VACUUM FULL orders;
