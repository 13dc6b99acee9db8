/**
 * Item 3: what the agent costs while it waits, which is nearly all the time. Agent: `agent daemon`
 * (schedule far away, no boot run), RSS of it and any children after start-up, then after N runs
 * started by SIGUSR1 (each a real apply). Baseline: `puppet agent --no-daemonize` against a server
 * that accepts and never answers, so it sits waiting like an idle agent; its state in temp dirs.
 */
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startRig } from '../lib/rig.js';
import { AGENT_BIN } from '../lib/paths.js';
import { sampleIdle, type IdleSample } from '../lib/idle-sample.js';
import { DAEMON_NODE_FLAGS } from '../../agent/commands/daemon.js';
import { processTree } from '../lib/proc-memory.js';
import { startSilentServer } from '../lib/silent-server.js';
import { sleep, waitFor } from '../lib/wait.js';
import { ratioOf, summarize } from '../stats.js';
import type { Scenario } from '../scenario.js';
import type { StatusFile } from '../../agent/run/status-file.js';

const TARGET = { on: 'ratio' as const, max: 0.75, source: 'issue #8' };

export const idleMemory: Scenario = {
  name: 'idle-memory',
  title: '3. Idle memory',
  runsLast: true, // its hour of idle would otherwise sit between timed scenarios
  async run(options) {
    const runs = options.quick ? 1 : 20;
    // settle: let start-up garbage be collected and the process go quiet before sampling
    const settleMs = options.quick ? 1000 : 3000;
    const agent = await measureDaemon(runs, settleMs, options.idleMinutes, options.log);
    const puppet = await measurePuppetAgent(settleMs, options.log);
    const node = await measureBareNode(settleMs);
    const idle = (sample: IdleSample) => (sample.cpuTicks === 0 ? 'idle' : `${sample.cpuTicks} CPU ticks while sampled`);
    return {
      baseline: '`puppet agent --no-daemonize` waiting on a server that never answers (temp confdir/vardir/logdir/rundir)',
      subject: `\`agent daemon\` as the installed wrapper starts it (\`node ${DAEMON_NODE_FLAGS.join(' ')}\`; no boot run, schedule far away), its children included`,
      rows: [
        { metric: 'idle RSS after start-up', unit: 'MB', baseline: puppet.rssMb, subject: agent.started.rssMb, ratio: ratioOf(agent.started.rssMb.median, puppet.rssMb.median), target: TARGET },
        { metric: `idle RSS after ${runs} completed runs`, unit: 'MB', baseline: puppet.rssMb, subject: agent.afterRuns.rssMb, ratio: ratioOf(agent.afterRuns.rssMb.median, puppet.rssMb.median), target: TARGET },
        {
          metric: `growth over ${runs} runs (baseline column: the daemon after start-up)`,
          unit: 'MB',
          baseline: agent.started.rssMb,
          subject: agent.afterRuns.rssMb,
          ratio: ratioOf(agent.afterRuns.rssMb.median, agent.started.rssMb.median),
          target: { on: 'ratio', max: 1.1, source: 'issue #8 "no growth", 10% for allocator noise' },
        },
        {
          metric: `idle RSS after ${formatMinutes(options.idleMinutes)} idle (after the runs)`,
          unit: 'MB',
          baseline: puppet.rssMb,
          subject: agent.longIdle.rssMb,
          ratio: ratioOf(agent.longIdle.rssMb.median, puppet.rssMb.median),
          target: TARGET,
        },
        { metric: 'floor: bare Node (`node -e` with one timer) vs puppet agent', unit: 'MB', baseline: puppet.rssMb, subject: node.rssMb, ratio: ratioOf(node.rssMb.median, puppet.rssMb.median) },
        { metric: 'processes at idle', unit: 'count', baseline: summarize([puppet.processes]), subject: summarize([agent.afterRuns.processes]) },
      ],
      notes: [
        'RSS is VmRSS from /proc/PID/status summed over the process and its descendants; each cell is the median of 3 samples 1 s apart, taken 3 s after the process settled (1 s in --quick). The ratio divides medians (one process each, not paired repetitions).',
        `CPU while sampled: puppet agent ${idle(puppet)}; daemon after start-up ${idle(agent.started)}, after runs ${idle(agent.afterRuns)}. puppet agent had ${puppet.accepted} connection(s) open to the silent server: it was waiting on it, not failing.`,
        `The long-idle sample: the daemon left alone for ${formatMinutes(options.idleMinutes)} after the runs (\`--idle-minutes\`; the issue asks for 1 h, the default of a full run), CPU ${idle(agent.longIdle)}.`,
        `Each daemon run was a SIGUSR1 (trigger signal: a full apply of the fixture tree); the bench waited for status.json to count it before sending the next. ${agent.runsSeen} runs counted.`,
      ],
    };
  },
};

function formatMinutes(minutes: number): string {
  return minutes >= 60 && minutes % 60 === 0 ? `${minutes / 60} h` : minutes >= 1 ? `${minutes} min` : `${Math.round(minutes * 60)} s`;
}

async function measureDaemon(
  runs: number,
  settleMs: number,
  idleMinutes: number,
  log: (message: string) => void,
): Promise<{ started: IdleSample; afterRuns: IdleSample; longIdle: IdleSample; runsSeen: number }> {
  const rig = await startRig();
  const host = rig.host('i-0bench0000000idle', { schedule: '0 0 1 1 *', run_at_boot: false });
  // as the installed wrapper starts it (ami/install.sh)
  const daemon = execa(process.execPath, [...DAEMON_NODE_FLAGS, AGENT_BIN, 'daemon', '--config', host.configPath], { env: host.env, reject: false, stdio: 'ignore' });
  try {
    const pid = daemon.pid!;
    // started: daemon.json written and the config-check and register children gone
    await waitFor('the daemon to start', () => existsSync(join(host.stateDir, 'daemon.json')) && processTree(pid).length === 1, 60_000);
    await sleep(settleMs);
    const started = await sampleIdle(pid);
    log(`  daemon after start-up: ${started.rssMb.median.toFixed(1)} MB`);
    const statusFile = join(host.stateDir, 'status.json');
    const total = () => {
      if (!existsSync(statusFile)) return 0;
      const status = JSON.parse(readFileSync(statusFile, 'utf8')) as StatusFile;
      return Object.values(status.runs_total ?? {}).reduce((sum, count) => sum + (count ?? 0), 0);
    };
    for (let run = 1; run <= runs; run++) {
      process.kill(pid, 'SIGUSR1');
      await waitFor(`run ${run} to be counted in status.json`, () => total() >= run && processTree(pid).length === 1, 120_000, 200);
      if (run % 5 === 0) log(`  daemon: ${run}/${runs} runs`);
    }
    await sleep(settleMs);
    const afterRuns = await sampleIdle(pid);
    log(`  daemon after ${runs} runs: ${afterRuns.rssMb.median.toFixed(1)} MB; now idle for ${formatMinutes(idleMinutes)}`);
    await sleep(idleMinutes * 60_000);
    const longIdle = await sampleIdle(pid);
    log(`  daemon after ${formatMinutes(idleMinutes)} idle: ${longIdle.rssMb.median.toFixed(1)} MB`);
    return { started, afterRuns, longIdle, runsSeen: total() };
  } finally {
    daemon.kill('SIGTERM');
    await Promise.race([daemon, sleep(30_000)]);
    daemon.kill('SIGKILL');
    await rig.remove();
  }
}

async function measurePuppetAgent(settleMs: number, log: (message: string) => void): Promise<IdleSample & { accepted: number }> {
  const silent = await startSilentServer();
  const dir = mkdtempSync(join(tmpdir(), 'bench-puppet-agent-'));
  const flags = ['confdir', 'vardir', 'logdir', 'rundir', 'codedir', 'publicdir'].map((name) => `--${name}=${join(dir, name)}`);
  const puppet = execa('puppet', ['agent', '--no-daemonize', `--server=127.0.0.1`, `--serverport=${silent.port}`, '--color=false', ...flags], { reject: false, stdio: 'ignore' });
  try {
    // it is idle once its first request is left hanging
    await waitFor('puppet agent to connect to the silent server', () => silent.accepted() > 0 || puppet.exitCode !== null, 60_000);
    if (puppet.exitCode !== null) throw new Error(`puppet agent exited (${puppet.exitCode}) instead of waiting`);
    await sleep(settleMs);
    const sample = await sampleIdle(puppet.pid!);
    log(`  puppet agent idle: ${sample.rssMb.median.toFixed(1)} MB`);
    return { ...sample, accepted: silent.accepted() };
  } finally {
    puppet.kill('SIGKILL');
    await puppet;
    await silent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor any Node daemon starts from on this machine: the runtime with one pending timer. */
async function measureBareNode(settleMs: number): Promise<IdleSample> {
  const node = execa(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { reject: false, stdio: 'ignore' });
  try {
    await sleep(settleMs + 500);
    return await sampleIdle(node.pid!);
  } finally {
    node.kill('SIGKILL');
    await node;
  }
}
