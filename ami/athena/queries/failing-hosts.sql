-- Hosts failing the most: runs whose result was failed or error, against all their runs.
SELECT instance_id,
       COUNT(*) AS runs,
       SUM(CASE WHEN result IN ('failed', 'error') THEN 1 ELSE 0 END) AS failed_runs,
       ROUND(100.0 * SUM(CASE WHEN result IN ('failed', 'error') THEN 1 ELSE 0 END) / COUNT(*), 1) AS failed_percent,
       MAX(CASE WHEN result IN ('failed', 'error') THEN finished_at END) AS last_failure
FROM agent_runs
GROUP BY instance_id
HAVING SUM(CASE WHEN result IN ('failed', 'error') THEN 1 ELSE 0 END) > 0
ORDER BY failed_runs DESC, instance_id
LIMIT 50
