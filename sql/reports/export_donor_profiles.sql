-- One row per consenting donor's profile, keyed by the donor's citizen-id hash, with the martyrs
-- the donor is a surveyed relative of.
SELECT p.citizen_id_hash, p.relative_id, p.sample_id, p."range", p.haplotype, p.haplogroup,
       coalesce(list(DISTINCT mc.martyr_id ORDER BY mc.martyr_id) FILTER (WHERE mc.martyr_id IS NOT NULL),
                []::VARCHAR[]) AS martyr_ids
FROM marts.mtdna_profiles p
JOIN core.relatives r USING (relative_id)
LEFT JOIN marts.maternal_candidates mc USING (relative_id)
WHERE p.sample_kind = 'relative' AND r.consent = 'Có' AND p.citizen_id_hash IS NOT NULL
GROUP BY ALL
ORDER BY p.citizen_id_hash, p.sample_id
