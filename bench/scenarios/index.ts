/**
 * Every scenario, in the order they run and appear in RESULTS.md. A new scenario is one file in this
 * folder and one line here.
 */
import type { Scenario } from '../scenario.js';
import { noChangePoll } from './no-change-poll.js';
import { fullCycle } from './full-cycle.js';
import { idleMemory } from './idle-memory.js';
import { treeScale } from './tree-scale.js';
import { fleetSchedule } from './fleet-schedule.js';
import { s3Cost } from './s3-cost.js';
import { fleetLoad } from './fleet-load.js';
import { fleetView } from './fleet-view.js';
import { rolloutSim } from './rollout-sim.js';
import { planCost } from './plan-cost.js';
import { dashboard } from './dashboard.js';

export const SCENARIOS: readonly Scenario[] = [
  noChangePoll,
  fullCycle,
  idleMemory,
  treeScale,
  fleetSchedule,
  s3Cost,
  fleetLoad,
  fleetView,
  rolloutSim,
  planCost,
  dashboard,
];
