DROP TABLE catalog.volume_tiers;
DROP TABLE catalog.price_list_prices;
DROP TABLE catalog.price_lists;
DROP TABLE catalog.customer_group_members;
DROP TABLE catalog.customer_groups;
