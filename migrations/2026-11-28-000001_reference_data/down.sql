DROP TABLE service_categories;
DROP TABLE issuers;
DROP TABLE districts;
DROP TABLE regions;
