// Slowing down repeated failed logins, stateless across instances: the audit log is the
// only memory. Each failed login is an audit event (action `login`, outcome `failure`, actor = the
// name tried, remote = the client address). Before any password is checked:
// - a name with `nameLimit` or more failures within the window (counted since its last successful
//   login) must wait;
// - an address with `addressLimit` or more failures within the window must wait.
// The wait grows with the count — BASE_DELAY_SECONDS doubled for each failure beyond the limit, at
// most the window — and applies only while the latest failure is more recent than the wait, so
// the guesses an attacker gets per window are about limit + log2(window / base). Other names and
// addresses are unaffected. Refused (429) attempts are not failures: they do not lengthen the wait.
import type { AuditQuery, Store } from '../../collections/store.js';

export interface ThrottleSettings {
  nameLimit: number;
  addressLimit: number;
  windowSeconds: number;
}

export const BASE_DELAY_SECONDS = 10;
/** Successes read to find the latest one (only when a name is over its limit). */
const SUCCESS_SCAN = 1000;

export class LoginThrottle {
  constructor(
    private readonly store: Store,
    private readonly settings: ThrottleSettings,
  ) {}

  /** Seconds the caller must wait before trying this name from this address again; 0 = go ahead. */
  async retryAfter(name: string | undefined, remote: string | undefined, now: number): Promise<number> {
    const [byName, byAddress] = await Promise.all([
      name !== undefined ? this.wait({ actor: name }, this.settings.nameLimit, true, now) : 0,
      remote !== undefined ? this.wait({ remote }, this.settings.addressLimit, false, now) : 0,
    ]);
    return Math.max(byName, byAddress);
  }

  private async wait(subject: Pick<AuditQuery, 'actor' | 'remote'>, limit: number, sinceSuccess: boolean, now: number): Promise<number> {
    const window = this.settings.windowSeconds;
    let since = now - window * 1e6;
    const failures = (from: number) => this.store.countAudit({ ...subject, action: 'login', outcome: 'failure', since: from });
    let count = await failures(since);
    if (count < limit) return 0;
    if (sinceSuccess) {
      const successes = await this.store.queryAudit({ ...subject, action: 'login', outcome: 'success', since, limit: SUCCESS_SCAN });
      const last = successes.at(-1);
      if (last) {
        since = last.at + 1;
        count = await failures(since);
        if (count < limit) return 0;
      }
    }
    const delay = Math.min(window, BASE_DELAY_SECONDS * 2 ** Math.min(count - limit, 30));
    const recent = await failures(Math.max(since, now - delay * 1e6));
    return recent > 0 ? Math.ceil(delay) : 0;
  }
}
