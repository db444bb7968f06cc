// Real storage faults for an SQLite database file, as root:
// - full: the database lives on a tmpfs of a fixed size (`mount -t tmpfs -o size=…`), and a filler file
//   takes every byte left; removing the filler gives the space back.
// - read-only: the database file and its WAL get the immutable flag (`chattr +i`, on the ext4 temp dir).
//   Root ignores file modes, so chmod would prove nothing; a read-only remount of a filesystem with files
//   open for writing is refused ("busy"). The -shm file is left alone on purpose: SQLite maps it into
//   memory, and a write to a mapped page of an immutable file kills the process with SIGBUS — a crash no
//   error handling can turn into an answer (docs/fault-tolerance.md says so).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why these faults cannot be made here, or null. */
export function sqliteFaultsUnsupported(): string | null {
  if (process.getuid?.() !== 0) return 'the SQLite storage fault tests mount a tmpfs and set the immutable flag: they must run as root';
  const probe = mkdtempSync(join(tmpdir(), 'resetguard-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
  } catch {
    return 'mounting a tmpfs is not permitted here (the SQLite disk-full test needs a small filesystem of its own)';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
  if (!['/usr/bin/chattr', '/bin/chattr'].some((p) => existsSync(p))) return 'chattr is not installed (e2fsprogs); the SQLite read-only test sets the immutable flag';
  return null;
}

export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the filesystem refuses (ENOSPC); returns the bytes it took. */
  fill(): number;
  /** Removes the filler: the space is back. */
  free(): void;
  unmount(): void;
}

export function mountSmallDisk(sizeMb: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'resetguard-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096, 0x2a);
      let bytes = 0;
      try {
        for (;;) bytes += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      return bytes;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Sets (true) or clears (false) the immutable flag on the database file and its WAL. */
export function setImmutable(dbPath: string, on: boolean): void {
  const files = [dbPath, `${dbPath}-wal`].filter((f) => existsSync(f));
  execFileSync('chattr', [on ? '+i' : '-i', ...files]);
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return dir;
}
