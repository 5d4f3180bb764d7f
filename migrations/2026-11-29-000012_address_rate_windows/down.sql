DROP TABLE address_rate_windows;
