-- The provincial progress report per district (counts only).
SELECT * FROM reports.district_progress
