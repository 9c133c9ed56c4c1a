-- Martyrs proposed or confirmed for more than one remains: a martyr has one body.
SELECT martyr_id, count(*) AS rows, string_agg(remains_id, ', ' ORDER BY remains_id) AS remains
FROM marts.identifications
WHERE status IN ('proposed', 'confirmed')
GROUP BY martyr_id
HAVING count(*) > 1
