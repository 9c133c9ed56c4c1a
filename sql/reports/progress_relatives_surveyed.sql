-- Relatives surveyed (forms 01 and 02, one per resolved person), by the district they live in.
SELECT address_district AS district, count(*) AS relatives_surveyed
FROM core.relatives
GROUP BY ALL
