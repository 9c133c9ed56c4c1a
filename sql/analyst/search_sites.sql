-- Reported burial sites and leads, by commune code and village.
SELECT site_id, district_code, district_name AS district, commune_code, commune_name AS commune, village,
       report_count, lat, lon, status
FROM marts.search_sites
