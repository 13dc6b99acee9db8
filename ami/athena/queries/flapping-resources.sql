-- Flapping resources: corrected in 3 of a host's last 5 runs, a manifest fighting something else.
SELECT resource,
       COUNT(*) AS flapping_runs,
       COUNT(DISTINCT instance_id) AS hosts,
       MIN(dt) AS first_day,
       MAX(dt) AS last_day
FROM agent_resource_events
WHERE flapping
GROUP BY resource
ORDER BY flapping_runs DESC, resource
LIMIT 50
