import { describe, it, expect } from '@jest/globals';
import { buildRegistration, registrationChanged } from '../../agent/fleet/registration.js';
import { hookEnvironment } from '../../agent/run/hooks.js';

const identity = {
  id: 'i-1',
  hostname: 'web-1',
  private_ip: '10.0.0.7',
  metadata: { instance_id: 'i-1', private_ip: '10.0.0.7', public_ip: null, ami_id: 'ami-1', instance_type: 't3.micro', availability_zone: 'us-east-1a', region: 'us-east-1' },
};
const at = (iso: string) => buildRegistration({ identity, roles: ['web'], sshHostKeys: ['ssh-ed25519 AAAA'], agentVersion: '0.1.0', now: new Date(iso) });

describe('registration', () => {
  it('carries the IMDS values, roles and SSH host keys (SPEC §4)', () => {
    expect(at('2026-11-25T00:00:00Z')).toMatchObject({ schema: 'agent.registration/v1', instance_id: 'i-1', ami_id: 'ami-1', ssh_host_keys: ['ssh-ed25519 AAAA'], roles: ['web'] });
  });

  it('is rewritten only when something but the time changed', () => {
    expect(registrationChanged(undefined, at('2026-11-25T00:00:00Z'))).toBe(true);
    expect(registrationChanged(at('2026-11-25T00:00:00Z'), at('2026-11-26T00:00:00Z'))).toBe(false);
    expect(registrationChanged(at('2026-11-25T00:00:00Z'), { ...at('2026-11-25T00:00:00Z'), roles: ['db'] })).toBe(true);
  });
});

describe('hook environment (SPEC §3)', () => {
  it('names every AGENT_* variable', () => {
    expect(hookEnvironment({ instanceId: 'i-1', privateIp: null, roles: ['a', 'b'], runId: 'r', result: 'changed', exitCode: 2, reportPath: '/x.json' })).toEqual({
      AGENT_INSTANCE_ID: 'i-1',
      AGENT_PRIVATE_IP: '',
      AGENT_ROLES: 'a,b',
      AGENT_RUN_ID: 'r',
      AGENT_RESULT: 'changed',
      AGENT_EXIT_CODE: '2',
      AGENT_REPORT: '/x.json',
    });
  });
});
