-- Usable mtDNA profiles by sample id; the link from a relative's sample to the person (citizen-id
-- hash in the collection log) stays outside the analyst schema.
SELECT sample_id, sample_kind, "range", haplotype, haplogroup
FROM marts.mtdna_profiles
