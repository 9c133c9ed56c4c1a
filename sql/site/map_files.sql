-- The search map's HTML and GeoJSON files, with their district and commune codes.
SELECT kind, district_code, district, commune_code, commune, path FROM ops.search_map_files ORDER BY path
