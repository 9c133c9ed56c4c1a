-- Identifications with the martyr's name and home district (code and name), for the landing and
-- district pages.
SELECT i.remains_id, i.martyr_id, m.full_name, i.status, i.posterior,
       m.hometown_district_code AS district_code, m.hometown_district AS district
FROM marts.identifications i
LEFT JOIN core.martyrs m USING (martyr_id)
ORDER BY i.remains_id
