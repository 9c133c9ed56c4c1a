-- Resolved martyrs with a missing or duplicated id, no name, an impossible birth year, a death
-- before birth, or a home commune code outside its home district.
SELECT martyr_id, full_name, birth_year, death_date, hometown_commune_code, hometown_district_code,
       CASE
           WHEN martyr_id IS NULL THEN 'no martyr id'
           WHEN count(*) OVER (PARTITION BY martyr_id) > 1 THEN 'martyr id not unique'
           WHEN full_name IS NULL OR trim(full_name) = '' THEN 'no name'
           WHEN birth_year NOT BETWEEN 1850 AND 2010 THEN 'birth year out of range'
           WHEN try_cast(left(CAST(death_date AS VARCHAR), 4) AS INTEGER) < birth_year THEN 'died before birth'
           WHEN hometown_commune_code IS NOT NULL AND hometown_district_code IS NULL
               THEN 'commune code without district code'
       END AS problem
FROM core.martyrs
QUALIFY problem IS NOT NULL
