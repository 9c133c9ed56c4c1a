-- Every row of every export file lands in a national table or in the quarantine. Per file a
-- manifest names: rows read = rows kept + rows quarantined; rows kept = the province's rows in the
-- national table; rows quarantined = the quarantine's rows for that file. Rows returned do not add up.
WITH kept AS (
    SELECT province_code, 'martyrs.csv' AS file, count(*) AS n FROM national.martyrs GROUP BY ALL
    UNION ALL
    SELECT province_code, 'references.csv', count(*) FROM national."references" GROUP BY ALL
    UNION ALL
    SELECT province_code, 'remains.csv', count(*) FROM national.remains GROUP BY ALL
),
quarantined AS (
    SELECT province_code, file, sum("rows") AS n
    FROM ops.quarantine
    WHERE province_code IS NOT NULL
    GROUP BY ALL
)
SELECT f.folder, f.province_code, f.file, f.status, f.rows_read, f.rows_kept, f.rows_quarantined,
       coalesce(k.n, 0) AS in_table, coalesce(q.n, 0) AS in_quarantine
FROM ops.national_files f
LEFT JOIN kept k ON k.province_code = f.province_code AND k.file = f.file AND f.status = 'accepted'
LEFT JOIN quarantined q ON q.province_code = f.province_code AND q.file = f.file
WHERE f.rows_read <> f.rows_kept + f.rows_quarantined
   OR f.rows_kept <> coalesce(k.n, 0)
   OR f.rows_quarantined <> coalesce(q.n, 0)
ORDER BY f.province_code, f.file
