-- The campaign's costs at the plan's unit rates: 5,000 đ per survey form to the surveyors;
-- 3,000 đ per form for the summary at district level and again at province level; about
-- 10,000,000 đ per pair of samples analysed (one pair = two samples with a result back).
WITH forms AS (
    SELECT 'phieu_01' AS source, count(DISTINCT form_no) AS n FROM raw.phieu_01
    UNION ALL SELECT 'phieu_02', count(DISTINCT form_no) FROM raw.phieu_02
    UNION ALL SELECT 'phieu_ho_gia_dinh', count(DISTINCT form_no) FROM raw.phieu_ho_gia_dinh
),
all_forms AS (SELECT sum(n) AS n FROM forms),
analysed AS (SELECT count(DISTINCT sample_id) AS n FROM raw.ket_qua_adn),
lines(line, item, unit, quantity, unit_cost_vnd) AS (
    SELECT 1, 'Điều tra viên: phiếu khảo sát 01 (surveyors: form 01)', 'phiếu (form)',
           (SELECT n FROM forms WHERE source = 'phieu_01'), 5000
    UNION ALL SELECT 2, 'Điều tra viên: phiếu khảo sát 02 (surveyors: form 02)', 'phiếu (form)',
           (SELECT n FROM forms WHERE source = 'phieu_02'), 5000
    UNION ALL SELECT 3, 'Điều tra viên: phiếu hộ gia đình (surveyors: household form)', 'phiếu (form)',
           (SELECT n FROM forms WHERE source = 'phieu_ho_gia_dinh'), 5000
    UNION ALL SELECT 4, 'Tổng hợp phiếu cấp huyện (district summary)', 'phiếu (form)', (SELECT n FROM all_forms), 3000
    UNION ALL SELECT 5, 'Tổng hợp phiếu cấp tỉnh (province summary)', 'phiếu (form)', (SELECT n FROM all_forms), 3000
    UNION ALL SELECT 6, 'Giám định ADN (mtDNA analysis)', 'cặp mẫu (pair of samples)',
           (SELECT n FROM analysed) / 2, 10000000
)
SELECT line, item, unit, quantity::DOUBLE AS quantity, unit_cost_vnd::BIGINT AS unit_cost_vnd,
       round(quantity * unit_cost_vnd)::BIGINT AS total_vnd
FROM lines
ORDER BY line
