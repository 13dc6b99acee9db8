-- Releases by failure rate: of the runs that applied each release, how many failed (rolled back included).
SELECT release_id,
       COUNT(*) AS runs,
       COUNT(DISTINCT instance_id) AS hosts,
       SUM(CASE WHEN result IN ('failed', 'error') THEN 1 ELSE 0 END) AS failed_runs,
       ROUND(100.0 * SUM(CASE WHEN result IN ('failed', 'error') THEN 1 ELSE 0 END) / COUNT(*), 1) AS failure_rate_percent,
       MIN(dt) AS first_day,
       MAX(dt) AS last_day
FROM agent_runs
WHERE release_id IS NOT NULL
GROUP BY release_id
ORDER BY failure_rate_percent DESC, runs DESC, release_id
