/**
 * DuckDB's copy of ami/athena/tables.sql: the same table and views over a local directory of
 * reports (`aws s3 sync s3://BUCKET/reports/ DIR`), so the named queries (ami/athena/queries/) run
 * unchanged on both engines. Pure: SQL text only. Columns are declared, as in the Athena DDL, so a
 * report missing a field reads as NULL instead of changing the inferred type of the whole table.
 */
const REPORT_COLUMNS = `{
  'schema': 'VARCHAR', 'run_id': 'VARCHAR', 'agent_version': 'VARCHAR', 'mode': 'VARCHAR',
  'instance': 'STRUCT(id VARCHAR, hostname VARCHAR, private_ip VARCHAR, roles VARCHAR[])',
  'started_at': 'VARCHAR', 'finished_at': 'VARCHAR', 'duration_ms': 'BIGINT', 'next_due_at': 'VARCHAR',
  'source': 'STRUCT(type VARCHAR, url_or_bucket VARCHAR, status VARCHAR, release_id VARCHAR, error VARCHAR)',
  'apply': 'STRUCT(status VARCHAR, release_id VARCHAR, puppet_version VARCHAR, puppet_exit_code INTEGER, duration_ms BIGINT, error VARCHAR, rolled_back_from VARCHAR)',
  'drift': 'STRUCT(resources_total INTEGER, out_of_sync INTEGER, corrective INTEGER, intentional INTEGER, failed INTEGER, flapping INTEGER, resources STRUCT(resource VARCHAR, type VARCHAR, title VARCHAR, manifest_file VARCHAR, line INTEGER, corrective_change BOOLEAN, flapping BOOLEAN, failed BOOLEAN)[])',
  'result': 'VARCHAR', 'exit_code': 'INTEGER',
  'rollout': 'STRUCT(rollout_id VARCHAR, step INTEGER, exposed BOOLEAN, candidate_release_id VARCHAR)'
}`;

function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The statements that set the views up over `reportsDir` (the folder that holds the dt=YYYY-MM-DD/ folders). */
export function duckdbSetup(reportsDir: string): string[] {
  const glob = `${reportsDir.replace(/\/+$/, '')}/dt=*/*/*.json`;
  return [
    `CREATE VIEW agent_reports AS SELECT * FROM read_json(${quote(glob)}, format = 'auto', hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}, columns = ${REPORT_COLUMNS})`,
    `CREATE VIEW agent_runs AS
     SELECT dt, run_id, instance.id AS instance_id, instance.hostname AS hostname, started_at, finished_at, mode, result, exit_code,
            COALESCE(apply.rolled_back_from, apply.release_id) AS release_id, apply.rolled_back_from AS rolled_back_from,
            drift.out_of_sync AS out_of_sync, drift.corrective AS corrective, drift.intentional AS intentional, drift.failed AS failed, drift.flapping AS flapping
     FROM agent_reports WHERE "schema" = 'agent.report/v1'`,
    `CREATE VIEW agent_run_roles AS
     SELECT a.dt, a.run_id, a.instance.id AS instance_id, a.result, a.drift.out_of_sync AS out_of_sync, a.drift.corrective AS corrective,
            COALESCE(t.role_name, '(no role)') AS role
     FROM agent_reports a LEFT JOIN (SELECT run_id AS rid, UNNEST(instance.roles) AS role_name FROM agent_reports) t ON t.rid = a.run_id
     WHERE a."schema" = 'agent.report/v1'`,
    `CREATE VIEW agent_resource_events AS
     SELECT dt, run_id, instance_id, r.resource AS resource, r.type AS resource_type, r.corrective_change AS corrective_change, r.flapping AS flapping, r.failed AS failed
     FROM (SELECT dt, run_id, instance.id AS instance_id, UNNEST(drift.resources) AS r FROM agent_reports WHERE "schema" = 'agent.report/v1')`,
  ];
}
