-- The country's assignment is one-to-one: a remains is named at most once, a martyr is proposed for
-- at most one remains. Rows returned break it.
SELECT 'remains named twice' AS problem, national_remains_id AS id, count(*) AS n
FROM national.identifications
GROUP BY national_remains_id
HAVING count(*) > 1
UNION ALL
SELECT 'martyr proposed twice', national_martyr_id, count(*)
FROM national.identifications
WHERE status = 'proposed'
GROUP BY national_martyr_id
HAVING count(*) > 1
ORDER BY 1, 2
