/** Exit codes of a run that did not get to Puppet (SPEC §2), shared by run-now, run-now --plan and the daemon. */

/** Runs are disabled (`agent disable`). */
export const EXIT_DISABLED = 3;

/** EX_TEMPFAIL (sysexits.h): another run holds the lock; try again later. */
export const EXIT_LOCKED = 75;
