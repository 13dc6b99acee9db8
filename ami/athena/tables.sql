-- Athena (engine v3) over the report bucket's reports/ (SPEC §4), with partition projection on dt:
-- no crawler, no MSCK REPAIR, new days are queryable the moment a report lands.
-- Replace fleet-reports/ with your bucket and report.prefix. Run each statement on its own.

CREATE EXTERNAL TABLE IF NOT EXISTS agent_reports (
  `schema` string,
  run_id string,
  agent_version string,
  `trigger` string,
  mode string,
  instance struct<id:string,hostname:string,private_ip:string,roles:array<string>>,
  started_at string,
  finished_at string,
  duration_ms bigint,
  next_due_at string,
  source struct<type:string,url_or_bucket:string,status:string,release_id:string,files_changed:int,bytes_transferred:bigint,error:string>,
  apply struct<status:string,release_id:string,puppet_version:string,puppet_exit_code:int,duration_ms:bigint,error:string,rolled_back_from:string>,
  drift struct<resources_total:int,out_of_sync:int,corrective:int,intentional:int,failed:int,flapping:int,
               resources:array<struct<resource:string,type:string,title:string,manifest_file:string,line:int,corrective_change:boolean,flapping:boolean,failed:boolean>>>,
  result string,
  exit_code int,
  rollout struct<rollout_id:string,serial:int,step:int,percent:double,state:string,exposed:boolean,candidate_release_id:string>
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION 's3://fleet-reports/reports/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleet-reports/reports/dt=${dt}/'
);

-- The named queries (queries/*.sql) read these three views, never the nested table: Athena's UNNEST of an
-- array of rows yields one column per field where DuckDB's yields one struct, so the engine-specific
-- part stays here and the queries are the same text on both (agent/analytics/duckdb-views.ts is DuckDB's copy).

CREATE OR REPLACE VIEW agent_runs AS
SELECT dt, run_id, instance.id AS instance_id, instance.hostname AS hostname, started_at, finished_at, mode, result, exit_code,
       COALESCE(apply.rolled_back_from, apply.release_id) AS release_id, apply.rolled_back_from AS rolled_back_from,
       drift.out_of_sync AS out_of_sync, drift.corrective AS corrective, drift.intentional AS intentional, drift.failed AS failed, drift.flapping AS flapping
FROM agent_reports
WHERE "schema" = 'agent.report/v1';

CREATE OR REPLACE VIEW agent_run_roles AS
SELECT a.dt, a.run_id, a.instance.id AS instance_id, a.result, a.drift.out_of_sync AS out_of_sync, a.drift.corrective AS corrective,
       COALESCE(t.role_name, '(no role)') AS role
FROM agent_reports a
LEFT JOIN UNNEST(a.instance.roles) AS t (role_name) ON TRUE
WHERE a."schema" = 'agent.report/v1';

CREATE OR REPLACE VIEW agent_resource_events AS
SELECT a.dt, a.run_id, a.instance.id AS instance_id, t.resource, t.type AS resource_type, t.corrective_change, t.flapping, t.failed
FROM agent_reports a
CROSS JOIN UNNEST(a.drift.resources) AS t (resource, type, title, manifest_file, line, corrective_change, flapping, failed)
WHERE a."schema" = 'agent.report/v1';
