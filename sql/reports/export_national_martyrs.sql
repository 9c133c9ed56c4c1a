-- National matching: the province's resolved martyrs, as the registry states them. Names of living
-- relatives (mother, father) stay in the province.
SELECT martyr_id, full_name, sex, birth_year,
       hometown_commune_code, hometown_district_code, hometown_province_code, hometown_province,
       unit, death_date, death_date_precision, death_place, cemetery
FROM core.martyrs
ORDER BY martyr_id
