/**
 * The one error type the agent raises on purpose. `code` is a closed set so callers can map
 * failures to exit codes and report fields without parsing messages.
 */
export type AgentErrorCode =
  | 'usage' // bad argv: exit 64
  | 'config' // invalid config file: exit 1
  | 'no_config' // no config file where the agent looked: exit 1 (status: 0, it says "not configured")
  | 'source_unreachable' // manifest source could not be polled or staged
  | 'source_rejected' // staged tree failed verification
  | 'no_good_tree' // nothing ever activated: nothing to apply
  | 'lock_busy' // another run holds the lock: exit 75
  | 'disabled' // runs are disabled: exit 3
  | 'puppet' // puppet could not be started or its report not read
  | 'report' // report could not be spooled or uploaded
  | 'internal';

export class AgentError extends Error {
  readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}

export function isAgentError(error: unknown, code?: AgentErrorCode): error is AgentError {
  return error instanceof AgentError && (code === undefined || error.code === code);
}

/** One line for logs and reports: the message, and the cause's message when it adds something. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : '';
    // a message that already quotes its cause's first line (YAML's are multi-line) needs no repeat
    return cause && !error.message.includes(cause.split('\n')[0]!) ? `${error.message}: ${cause}` : error.message;
  }
  return String(error);
}
