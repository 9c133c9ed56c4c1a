-- National matching: each consenting donor's profile with the maternal line and the martyrs it is a
-- reference for. The donor is known by the lab's sample id only; citizen ids, phones and names stay
-- in the province.
SELECT p.sample_id, mc.maternal_line_id,
       list(DISTINCT mc.martyr_id ORDER BY mc.martyr_id) AS martyr_ids,
       p."range", p.haplotype, p.haplogroup
FROM marts.mtdna_profiles p
JOIN core.relatives r USING (relative_id)
JOIN marts.maternal_candidates mc USING (relative_id)
WHERE p.sample_kind = 'relative' AND r.consent = 'Có' AND mc.shares_mtdna
GROUP BY p.sample_id, mc.maternal_line_id, p."range", p.haplotype, p.haplogroup
ORDER BY p.sample_id, mc.maternal_line_id
