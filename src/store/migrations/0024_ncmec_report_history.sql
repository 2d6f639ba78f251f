-- A CyberTipline report's history is the audit log's ncmec.* entries naming it (detail.report_id):
-- schema failures, the platform's account details supplied or not, creation and submission.
CREATE INDEX audit_log_ncmec_report ON audit_log ((detail->>'report_id'), seq) WHERE action LIKE 'ncmec.%';
