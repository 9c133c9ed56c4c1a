-- Who to sample next, by the pipeline's relative id only: field teams get names from the
-- district office, not from the analyst schema.
SELECT martyr_id, relative_id, priority_rank, commune
FROM marts.sampling_worklist
