import { normalizePrefix } from '../report/keys.js';

/**
 * Where plans live (SPEC §10). The plan itself sits with the releases in the source bucket (only a
 * publisher writes there); each host's answer goes to the report bucket, which hosts may write and
 * the source bucket hosts may only read (SPEC §7).
 */
export const planSourceKeys = (prefix: string) => {
  const base = normalizePrefix(prefix);
  return {
    pointer: `${base}plans/current.json`,
    plan: (planId: string) => `${base}plans/${planId}.json`,
    signature: (planId: string) => `${base}plans/${planId}.sig`,
  };
};

/** `<report.prefix>plans/<plan_id>/`: every host's answer to one plan. */
export function planReportsPrefix(reportPrefix: string, planId: string): string {
  return `${normalizePrefix(reportPrefix)}plans/${planId}/`;
}

export function planReportKey(reportPrefix: string, planId: string, instanceId: string): string {
  return `${planReportsPrefix(reportPrefix, planId)}${instanceId}.json`;
}
