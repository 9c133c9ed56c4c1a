-- The run audit tables (written by assets/audit.py after every run).
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.run_audit (
    run_id VARCHAR, job_name VARCHAR, status VARCHAR, trigger VARCHAR, inbox_file VARCHAR,
    started_at TIMESTAMP, recorded_at TIMESTAMP, code_version VARCHAR,
    input_files BIGINT, tables BIGINT, checks_passed BIGINT, checks_failed BIGINT);
CREATE TABLE IF NOT EXISTS ops.run_inputs (
    run_id VARCHAR, source VARCHAR, file VARCHAR, size_bytes BIGINT, checksum VARCHAR, status VARCHAR,
    records_read BIGINT, rows_clean BIGINT, rows_quarantined BIGINT);
CREATE TABLE IF NOT EXISTS ops.run_row_counts (
    run_id VARCHAR, table_name VARCHAR, rows BIGINT, checksum VARCHAR);
CREATE TABLE IF NOT EXISTS ops.run_checks (
    run_id VARCHAR, asset VARCHAR, check_name VARCHAR, passed BOOLEAN, severity VARCHAR, blocking BOOLEAN);
