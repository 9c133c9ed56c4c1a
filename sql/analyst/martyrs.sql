-- Resolved martyrs. The fallen are not living people: their names and hometowns are what the
-- campaign publishes; nothing about their families is carried here.
SELECT martyr_id, full_name, birth_year, hometown_commune_code, hometown_commune, hometown_district_code,
       hometown_district, hometown_province, death_date, grave_status
FROM core.martyrs
