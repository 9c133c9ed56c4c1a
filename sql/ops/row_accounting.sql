-- Files of one inbox source whose rows read differ from rows kept + rows quarantined ({folder}).
SELECT b.file,
       b.records_read,
       coalesce(r.n, 0) AS clean,
       coalesce(q.n, 0) AS quarantined
FROM ops.batches_{folder} b
LEFT JOIN (SELECT file, count(*) AS n FROM raw.{folder} GROUP BY file) r USING (file)
LEFT JOIN (SELECT file, count(*) AS n FROM ops.quarantine_{folder} GROUP BY file) q USING (file)
WHERE b.records_read <> coalesce(r.n, 0) + coalesce(q.n, 0)
