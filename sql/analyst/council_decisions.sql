-- The identification council's decisions on (remains, martyr) pairs; the free-text note is left
-- out (it may name living people).
SELECT remains_id, martyr_id, decision, decision_date, minutes_ref, retest_result, in_force, lifted,
       lifted_reason
FROM marts.council_decisions
