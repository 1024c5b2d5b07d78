-- TRUNCATE skips row triggers: refuse it too, so the audit log cannot be emptied either.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
