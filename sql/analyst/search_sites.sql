-- Reported burial sites and leads, by village.
SELECT site_id, commune, village, report_count, lat, lon, status
FROM marts.search_sites
