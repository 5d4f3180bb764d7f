DROP TABLE rule_sets;
DROP FUNCTION rule_sets_refuse_change();
DROP TABLE scheme_tiers;
DROP TABLE scheme_issuers;
DROP TABLE schemes;
