-- Usable mtDNA profiles by sample id, joined to the remains or to the relative (pipeline id) they
-- come from; the citizen-id hash of the collection log stays outside the analyst schema.
SELECT sample_id, sample_kind, remains_id, relative_id, "range", haplotype, haplogroup
FROM marts.mtdna_profiles
