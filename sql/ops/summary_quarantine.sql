-- Quarantined rows per source and reason; quoted values and numbers folded so reasons group.
SELECT source,
       regexp_replace(reason, '''[^'']*''|\d+', '…', 'g') AS reason,
       count(*) AS rows
FROM ops.quarantine
GROUP BY ALL
ORDER BY source, rows DESC
