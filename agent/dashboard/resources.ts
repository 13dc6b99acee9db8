import type { Report } from '../report/types.js';
import type { TopResource } from './data.js';

/**
 * The resources that need a look (Puppetboard's "top flapping/failing" lists), pure: counted over the
 * latest report of each host, so a resource counts once per host. Flapping = corrected in 3 of the
 * last 5 runs (SPEC §5): a manifest fighting something else on the host.
 */
export interface ResourceTops {
  flapping: TopResource[];
  failing: TopResource[];
  corrective: TopResource[];
}

const SAMPLE = 5;

export function topResources(reports: Iterable<Report>, limit = 15): ResourceTops {
  const tallies = { flapping: new Map<string, TopResource>(), failing: new Map<string, TopResource>(), corrective: new Map<string, TopResource>() };
  const count = (tally: Map<string, TopResource>, resource: string, instanceId: string) => {
    const entry = tally.get(resource) ?? { resource, hosts: 0, sample: [] };
    entry.hosts += 1;
    if (entry.sample.length < SAMPLE) entry.sample.push(instanceId);
    tally.set(resource, entry);
  };
  for (const report of reports) {
    for (const resource of report.drift.resources) {
      if (resource.flapping) count(tallies.flapping, resource.resource, report.instance.id);
      if (resource.failed) count(tallies.failing, resource.resource, report.instance.id);
      if (resource.corrective_change) count(tallies.corrective, resource.resource, report.instance.id);
    }
  }
  const top = (tally: Map<string, TopResource>) => [...tally.values()].sort((a, b) => b.hosts - a.hosts || a.resource.localeCompare(b.resource)).slice(0, limit);
  return { flapping: top(tallies.flapping), failing: top(tallies.failing), corrective: top(tallies.corrective) };
}
