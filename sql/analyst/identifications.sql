-- Proposed identities with the evidence they rest on (the analyst scan checks the evidence text
-- holds no identifier of a living relative).
SELECT remains_id, martyr_id, status, posterior, evidence
FROM marts.identifications
