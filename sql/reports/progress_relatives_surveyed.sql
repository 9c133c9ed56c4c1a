-- Relatives surveyed (forms 01 and 02, one per resolved person), by where they live (district and
-- province as parsed from the address; the report resolves them to codes, other provinces apart).
SELECT address_district AS district, address_province AS province, count(*) AS relatives_surveyed
FROM core.relatives
GROUP BY ALL
