-- The progress report's per-district figures (district codes; other provinces and unknown apart).
SELECT * FROM reports.district_progress
