-- National matching: the province's resolved martyrs, as the registry states them. Names of living
-- relatives (mother, father) stay in the province. Columns after `cemetery` were added with
-- `province_code` in the manifest (format version 1: columns are only added at the end).
SELECT martyr_id, full_name, sex, birth_year,
       hometown_commune_code, hometown_district_code, hometown_province_code, hometown_province,
       unit, death_date, death_date_precision, death_place, cemetery,
       grave_status, hometown_commune, hometown_district, array_to_string(aliases, ';') AS aliases
FROM core.martyrs
ORDER BY martyr_id
