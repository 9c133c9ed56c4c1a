-- The province's population sample for EMPOP: consenting donors' profiles, one per maternal line
-- (the smallest sample id of the line; a donor on no recorded line is a line of their own).
SELECT sample_id, "range", haplotype, haplogroup
FROM (
    SELECT p.sample_id, p."range", p.haplotype, p.haplogroup,
           row_number() OVER (
               PARTITION BY coalesce(l.maternal_line_id, 'relative:' || p.relative_id) ORDER BY p.sample_id
           ) AS k
    FROM marts.mtdna_profiles p
    JOIN core.relatives r USING (relative_id)
    LEFT JOIN (
        SELECT relative_id, min(maternal_line_id) AS maternal_line_id
        FROM marts.maternal_candidates WHERE shares_mtdna GROUP BY relative_id
    ) l USING (relative_id)
    WHERE p.sample_kind = 'relative' AND r.consent = 'Có'
)
WHERE k = 1
ORDER BY "range", sample_id
