// Devices: the one type every layer uses, and the one check that turns a string (from the addon, a flag or a
// config file) into it.
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export const DEVICE_PATTERN = /^(cpu|cuda(:\d+)?)$/;

/** True for 'cpu', 'cuda' and 'cuda:N' (N a non-negative integer). */
export function isDevice(s: string): s is Device {
  return DEVICE_PATTERN.test(s);
}

/** The string as a Device, or a TypeError naming `where` and the devices tandem knows. */
export function parseDevice(s: string, where: string): Device {
  if (isDevice(s)) return s;
  throw new TypeError(`${where}: unknown device '${s}' (expected cpu, cuda or cuda:N)`);
}
