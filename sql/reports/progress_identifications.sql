-- Identifications by the martyr's home district (where the family is told): proposed by the
-- pipeline, waiting for review, and confirmed (a status set once the identification council decides).
SELECT m.hometown_district AS district, m.hometown_province AS province,
       count(*) FILTER (WHERE i.status = 'proposed') AS identifications_proposed,
       count(*) FILTER (WHERE i.status = 'needs_review') AS identifications_needs_review,
       count(*) FILTER (WHERE i.status = 'confirmed') AS identifications_confirmed
FROM marts.identifications i
LEFT JOIN core.martyrs m USING (martyr_id)
GROUP BY ALL
