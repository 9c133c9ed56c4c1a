-- Who to sample next, by the pipeline's relative id only, per commune code: field teams get names
-- from the district office, not from the analyst schema.
SELECT martyr_id, relative_id, role, priority_rank, commune_code, commune, district_code, district,
       in_province
FROM marts.sampling_worklist
