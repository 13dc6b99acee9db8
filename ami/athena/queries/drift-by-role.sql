-- Drift by role and day: how many hosts of each role needed drift corrected (or found it in noop).
SELECT dt AS day,
       role,
       COUNT(*) AS runs,
       COUNT(DISTINCT instance_id) AS hosts,
       SUM(corrective) AS drifted_resources,
       COUNT(DISTINCT CASE WHEN corrective > 0 THEN instance_id END) AS hosts_with_drift
FROM agent_run_roles
GROUP BY dt, role
ORDER BY day, role
