-- Rows read, kept and quarantined per inbox source, with failed files.
SELECT source,
       count(*) AS files,
       sum(records_read)::BIGINT AS rows_in,
       sum(rows_clean)::BIGINT AS clean,
       sum(rows_quarantined)::BIGINT AS quarantined,
       count(*) FILTER (WHERE status = 'failed') AS failed_files
FROM ops.batches
GROUP BY source
ORDER BY source
