/**
 * The kernel's PM QoS CPU latency request (`/dev/cpu_dma_latency`): while the file stays open with a
 * 0 written to it, the cpuidle governor only picks idle states with a zero exit latency, so idle CPUs
 * poll instead of halting and a request that arrives at an idle CPU does not wait for it to wake.
 * Latency tools hold it the same way (cyclictest; tuned's latency-performance profile). Closing the
 * file, or the process exiting, drops the request.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const FILE = '/dev/cpu_dma_latency';

export interface CpuLatencyHold { release(): void }

/** Asks for CPUs that never halt; throws with the reason (no such file, not root) when it cannot. */
export function holdCpusAwake(): CpuLatencyHold {
  let fd: number;
  try {
    fd = openSync(FILE, 'w');
  } catch (err) {
    throw new Error(`cannot open ${FILE} to keep the CPUs out of idle states: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    writeSync(fd, Buffer.alloc(4)); // a binary s32: 0 µs of wake-up latency allowed
  } catch (err) {
    closeSync(fd);
    throw new Error(`cannot write ${FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let open = true;
  return { release: () => { if (open) { open = false; closeSync(fd); } } };
}
