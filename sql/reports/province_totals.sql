-- Province-wide figures, including the remains side that belongs to no district.
SELECT
    (SELECT count(DISTINCT sample_id) FROM raw.mau_adn WHERE sample_kind = 'Hài cốt') AS remains_samples,
    (SELECT count(DISTINCT sample_id) FROM raw.mau_adn WHERE sample_kind = 'Thân nhân') AS relative_samples,
    (SELECT count(DISTINCT sample_id) FROM raw.ket_qua_adn) AS results_back,
    (SELECT count(DISTINCT sample_id) FROM raw.ket_qua_adn WHERE quality = 'Không đạt') AS results_failed,
    (SELECT count(DISTINCT remains_id) FROM raw.hai_cot) AS remains_registered
