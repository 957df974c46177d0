import type { SystemdUnit } from './platform.js';

/**
 * The unit a cgroup path belongs to: its last `.service` or `.scope` segment
 * (`/system.slice/web.service`, `/user.slice/user-1000.slice/user@1000.service/app.slice/web.service`).
 * Under `user@UID.service` it is a unit of that user's service manager.
 */
export function systemdUnitOf(cgroup: string | undefined): SystemdUnit | undefined {
  const segments = (cgroup ?? '').split('/');
  const manager = (segment: string): boolean => /^user@\d+\.service$/.test(segment);
  for (let index = segments.length - 1; index >= 0; index -= 1) {
    const segment = segments[index]!;
    if (!/\.(service|scope)$/.test(segment) || manager(segment)) continue;
    return { name: segment, user: segments.slice(0, index).some(manager) };
  }
  return undefined;
}

/**
 * systemd's time spans as systemctl shows them: `1min 30s`, `90s`, `500ms`, `2h`, `infinity`.
 * Milliseconds, Infinity, or undefined when it is not one.
 */
export function parseSystemdTimespan(text: string): number | undefined {
  const value = text.trim();
  if (value === 'infinity') return Infinity;
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  let total = 0;
  const parts = value.split(/\s+/);
  for (const part of parts) {
    const match = /^(\d+(?:\.\d+)?)(us|ms|s|min|h|d|w)$/.exec(part);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
  }
  return parts.length > 0 && value !== '' ? total : undefined;
}
