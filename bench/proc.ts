import { readdirSync, readFileSync } from 'node:fs';

/** What the bench reads of other processes from /proc (Linux): their CPU, and DynamoDB Local's JVM among them. */

/** Linux's USER_HZ, what /proc/<pid>/stat counts CPU time in. */
const CLOCK_TICKS_PER_SECOND = 100;

/** A /proc stat line's command and the fields after it. */
function statOf(file: string): { comm: string; fields: string[] } {
  const stat = readFileSync(file, 'utf8');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    fields: stat.slice(stat.lastIndexOf(')') + 2).split(' '),
  };
}

/** User + system CPU seconds from a stat line's fields (utime, stime). */
const cpuSecondsOf = (fields: string[]): number => (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;

/** User + system CPU seconds of a process, from /proc (Linux); undefined where it cannot be read. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    return cpuSecondsOf(statOf(`/proc/${pid}/stat`).fields);
  } catch {
    return undefined;
  }
}

/** Every process on the machine with its parent, its command and its CPU seconds (Linux /proc; empty elsewhere). */
function processTable(): Map<number, { parent: number; comm: string; cpuSeconds: number }> {
  const table = new Map<number, { parent: number; comm: string; cpuSeconds: number }>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const { comm, fields } = statOf(`/proc/${entry}/stat`);
        table.set(Number(entry), { parent: Number(fields[1]), comm, cpuSeconds: cpuSecondsOf(fields) });
      } catch {
        // The process ended between the listing and the read.
      }
    }
  } catch {
    // Not Linux: no figures.
  }
  return table;
}

function descendants(ancestor: number, table: ReturnType<typeof processTable>): number[] {
  return [...table.keys()].filter((pid) => {
    for (let up = table.get(pid)?.parent; up !== undefined && up > 1; up = table.get(up)?.parent) {
      if (up === ancestor) return true;
    }
    return false;
  });
}

/** The first process under `ancestor` (its child, grandchild…) whose command is `name` (Linux /proc), if any. */
export function descendantNamed(ancestor: number, name: string): number | undefined {
  const table = processTable();
  return descendants(ancestor, table).find((pid) => table.get(pid)?.comm === name);
}

/** CPU seconds of `root` and every process under it, those named `except` left out (Linux /proc; 0 elsewhere). */
export function treeCpuSeconds(root: number, except: string): number {
  const table = processTable();
  return [root, ...descendants(root, table)]
    .filter((pid) => table.get(pid)?.comm !== except)
    .reduce((sum, pid) => sum + (table.get(pid)?.cpuSeconds ?? 0), 0);
}

/** A JVM's CPU from /proc (Linux): all of it, and its JIT compiler threads' (`C1/C2 CompilerThread`), since `start`. */
export class JvmMeter {
  private at = 0;
  private cpu = 0;
  private compiler = 0;

  constructor(private readonly pid: number) {}

  start(): void {
    this.at = performance.now();
    this.cpu = processCpuSeconds(this.pid) ?? 0;
    this.compiler = this.compilerCpuSeconds();
  }

  read(): { cpuSeconds: number; compilerCpuSeconds: number; compilerCores: number } {
    const seconds = (performance.now() - this.at) / 1000;
    const compilerCpuSeconds = this.compilerCpuSeconds() - this.compiler;
    return {
      cpuSeconds: (processCpuSeconds(this.pid) ?? 0) - this.cpu,
      compilerCpuSeconds,
      compilerCores: compilerCpuSeconds / seconds,
    };
  }

  private compilerCpuSeconds(): number {
    let total = 0;
    try {
      for (const task of readdirSync(`/proc/${this.pid}/task`)) {
        const { comm, fields } = statOf(`/proc/${this.pid}/task/${task}/stat`);
        if (!comm.includes('CompilerThre')) continue;
        total += cpuSecondsOf(fields);
      }
    } catch {
      // A thread ended between the listing and the read, or not Linux: what was read stands.
    }
    return total;
  }
}
